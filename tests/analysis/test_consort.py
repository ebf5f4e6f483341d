"""CONSORT disposition: counts that add up, counted directly from the dataset, drawn as SVG."""

from __future__ import annotations

import io

import pytest

from aftercrisis.analysis.blinding import arm_labels
from aftercrisis.analysis.consort import (
    ArmFlow,
    ConsortError,
    Disposition,
    consort_figure,
    disposition_from_dataset,
)
from aftercrisis.analysis.dataset import _as_text, typed

from .synthetic import synthetic_dataset


def _core() -> Disposition:
    return Disposition(
        randomised=441,
        assessed=1033,
        excluded={"not eligible": 300, "declined": 292},
        arms=(
            ArmFlow(
                "Peer support",
                221,
                218,
                received=188,
                not_received={"no session": 33},
                lost_to_follow_up={"records not available": 3},
            ),
            ArmFlow("Workbook by post", 220, 216, lost_to_follow_up={"records not available": 4}),
        ),
    )


def test_counts_that_add_up_pass() -> None:
    assert _core().problems() == []


def test_each_mismatch_is_named() -> None:
    bad = Disposition(
        randomised=441,
        assessed=1000,
        excluded={"declined": 292},
        arms=(
            ArmFlow("A", 221, 210, received=190, not_received={"no session": 33}, lost_to_follow_up={"x": 3}),
            ArmFlow("B", 219, 216, lost_to_follow_up={"x": -3}),
        ),
    )
    with pytest.raises(ConsortError) as caught:
        bad.check()
    text = str(caught.value)
    assert "assessed (1000) is not randomised (441) + excluded (292)" in text
    assert "allocated (440) does not equal randomised (441)" in text
    assert "A: received (190) + did not receive (33) is not allocated (221)" in text
    assert (
        "A: analysed (210) + lost to follow-up (3) + excluded from analysis (0) is not allocated (221)"
        in text
    )
    assert "B: x is negative (-3)" in text


def test_disposition_equals_a_direct_count_of_the_dataset() -> None:
    frame = typed(synthetic_dataset(300, seed=8).apply(_as_text))
    labels = arm_labels(blinded=False)
    flow = disposition_from_dataset(frame, labels, outcome="readmitted_1y")
    flow.check()
    compared, reference = flow.arms
    treated = frame.loc[frame["arm"] == "intervention"]
    assert flow.randomised == len(frame) == 300
    assert compared.allocated == len(treated)
    assert compared.received == int((treated["sessions_attended"] > 0).sum())
    assert compared.analysed == int(treated["readmitted_1y"].notna().sum())
    assert reference.analysed == int(frame.loc[frame["arm"] == "control", "readmitted_1y"].notna().sum())
    blinded = disposition_from_dataset(frame, arm_labels(blinded=True, key="k"), outcome="readmitted_1y")
    assert all(arm.received is None for arm in blinded.arms)  # receipt would unmask the arms


def test_diagram_is_an_svg_with_the_counts_as_text() -> None:
    buffer = io.StringIO()
    consort_figure(_core()).savefig(buffer, format="svg")
    svg = buffer.getvalue()
    for text in (
        "Assessed for eligibility",
        "1033",
        "Randomised",
        "441",
        "Lost to follow-up",
        "Analysed",
        "218",
    ):
        assert text in svg


def test_diagram_refuses_counts_that_do_not_add_up() -> None:
    bad = Disposition(randomised=10, arms=(ArmFlow("A", 5, 5), ArmFlow("B", 4, 4)))
    with pytest.raises(ConsortError, match="allocated"):
        consort_figure(bad)
