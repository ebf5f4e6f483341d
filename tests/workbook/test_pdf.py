"""Both printed workbooks, rendered to images and read back as text."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from aftercrisis.workbook.content import EntryKey, load_workbook
from aftercrisis.workbook.pdf import blank_workbook_pdf, personal_workbook_pdf
from aftercrisis.workbook.selectors import filled_workbook
from aftercrisis.workbook.services import save_answers

pytestmark = pytest.mark.django_db


def _pages(pdf: bytes, where: Path) -> tuple[list[Path], str]:
    """PNG pages (pdftoppm) and the text of the whole document (pdftotext)."""
    source = where / "workbook.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(source), str(where / "page")], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True).stdout
    return sorted(where.glob("page-*.png")), " ".join(text.decode().split())


def test_the_blank_postal_edition(core_protocol, tmp_path):
    pages, text = _pages(blank_workbook_pdf(core_protocol).content, tmp_path)
    workbook = load_workbook()
    assert len(pages) >= 1 + len(workbook.sections)  # a cover, then each section from a new page
    assert all(p.stat().st_size > 2000 for p in pages)  # drawn, not blank
    assert pages[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for number, section in enumerate(workbook.sections, start=1):
        assert f"{number}. {section.title}" in text
    assert "My personal recovery workbook" in text and "CORE study" in text
    assert "Date to review" in text and "How to reach" in text  # table headings (wrapped in their columns)
    assert f"Page 2 of {len(pages)}" in text


def test_a_participants_own_copy(supported, core_protocol, tmp_path):
    participant = supported()
    save_answers(
        participant,
        {
            EntryKey("recovery", "", 0, "meaning"): "Being able to look after my daughter again",
            EntryKey("goals", "goal", 0, "goal"): "Join the walking group",
            EntryKey("goals", "goal", 0, "review_on"): "2026-04-01",
            EntryKey("support_network", "person", 0, "name"): "Auntie Rose",
            EntryKey("support_network", "person", 0, "contact"): "07700 900456",
        },
        by=None,
        reason="written by the participant",
    )
    pdf = personal_workbook_pdf(
        core_protocol,
        filled_workbook(participant),
        person="Alex Example",
        trial_id=participant.trial_id,
        printed_on=dt.date(2026, 2, 3),
    )
    pages, text = _pages(pdf, tmp_path)
    for entry in [
        "Being able to look after my daughter again",
        "Join the walking group",
        "Auntie Rose",
        "07700 900456",
    ]:
        assert entry in text
    assert "1 April 2026" in text  # dates in words
    assert "This copy belongs to Alex Example" in text and participant.trial_id in text
    assert "Not filled in yet" in text  # empty pages say so
    assert "My crisis plan" not in text  # the optional page is left out while empty
    assert len(pages) >= len(load_workbook().sections)  # cover + seven sections


def test_the_blank_edition_is_rendered_once_and_revalidated_by_its_etag(client, staff, monkeypatch):
    from django.core.cache import cache

    from aftercrisis.accounts.roles import Role
    from aftercrisis.workbook import pdf

    cache.clear()
    rendered = []
    real_render = pdf.render_pdf
    monkeypatch.setattr(pdf, "render_pdf", lambda html: rendered.append(html) or real_render(html))
    client.force_login(staff[Role.PEER_SUPPORT_WORKER])
    first = client.get("/workbook/blank.pdf")
    again = client.get("/workbook/blank.pdf")
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert len(rendered) == 1
    assert first["ETag"] == again["ETag"]
    unchanged = client.get("/workbook/blank.pdf", HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert client.get("/workbook/blank.pdf", HTTP_IF_NONE_MATCH='"an-older-edition"').status_code == 200


RENDER_ONCE = """
import sys
from aftercrisis.config.django import setup
setup()
from aftercrisis.config.trial import protocol
from aftercrisis.workbook import pdf
if sys.argv[1] == "again":
    def refuse(html):
        raise SystemExit("rendered a second time")
    pdf.render_pdf = refuse
print(pdf.blank_workbook_pdf(protocol()).etag)
"""


def test_the_blank_edition_is_rendered_once_for_every_server_process(tmp_path):
    """Under the production settings the cache is shared: a second process finds the first one's edition."""
    env = {
        "PATH": "/usr/bin:/bin",
        "AFTERCRISIS_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "aftercrisis.config.settings.production",
        "DJANGO_SECRET_KEY": "a-secret-for-this-test-only",
    }

    def run(which: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", RENDER_ONCE, which], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run("first") == run("again")
    assert any((tmp_path / "var" / "cache").iterdir())
