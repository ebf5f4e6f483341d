"""The report: one self-contained HTML file and a PDF, stamped for reproducibility."""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from aftercrisis.analysis.blinding import arm_labels
from aftercrisis.analysis.dataset import _as_text, typed
from aftercrisis.analysis.demo import demo_dataset
from aftercrisis.analysis.run import Outputs, run_plan, write_outputs
from aftercrisis.design.config import TrialConfig
from aftercrisis.protocol import load_protocol
from aftercrisis.reporting.report import Stamp, render_html, write_report

ROOT = Path(__file__).resolve().parents[2]
STAMP = Stamp(
    dataset_sha256="ab" * 32,
    protocol_version="1.0",
    software_version="9.9.9",
    generated_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    blinded=False,
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Outputs, Path]:
    plan = load_protocol(ROOT / "protocols" / "core.yaml").analysis
    plan = plan.model_copy(update={"imputation": plan.imputation.model_copy(update={"datasets": 2})})
    frame = typed(demo_dataset(seed=5, config=TrialConfig(n=300)).apply(_as_text))
    outputs = run_plan(frame, plan, arm_labels(blinded=False))
    directory = tmp_path_factory.mktemp("report")
    write_outputs(outputs, directory)
    return outputs, directory


def test_html_is_self_contained_and_stamped(written: tuple[Outputs, Path]) -> None:
    outputs, directory = written
    figures = {n: (directory / "figures" / f"{n}.svg").read_bytes() for n in outputs.figures}
    html = render_html(outputs, STAMP, trial="CORE", figures=figures)
    for text in ("ab" * 32, "Protocol version", "1.0", "aftercrisis 9.9.9", "2026-01-02T03:04:05+00:00"):
        assert text in html
    sources = re.findall(r'src="([^"]+)"', html)
    assert len(sources) == 4
    assert all(s.startswith("data:image/svg+xml;base64,") for s in sources)
    assert base64.b64decode(sources[0].split(",", 1)[1]).startswith(b"<?xml")
    assert "<link" not in html and "http://" not in html.replace("http://www.w3.org", "")


def test_the_live_report_states_assessments_by_an_unblinded_assessor(written: tuple[Outputs, Path]) -> None:
    outputs, _ = written
    html = render_html(
        outputs,
        STAMP,
        trial="CORE",
        figures={},
        unblinded_assessments={"questionnaires": 2, "acute_care_episodes": 1},
    )
    assert (
        "Assessed by an emergency-unblinded assessor</th><td>2 questionnaires, 1 acute-care episode<" in html
    )
    assert "emergency-unblinded" not in render_html(outputs, STAMP, trial="CORE", figures={})


def test_pdf_carries_the_stamp(written: tuple[Outputs, Path]) -> None:
    outputs, directory = written
    html_path, pdf_path = write_report(outputs, STAMP, directory, trial="CORE")
    assert html_path.read_text().startswith("<!DOCTYPE html>")
    text = subprocess.run(
        ["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "ab" * 32 in text
    assert "aftercrisis 9.9.9" in text
    assert "Readmission to acute care within one year" in text
