"""Lists that grow with the trial come a page at a time: a second page exists, a page holds no more than
its size whatever the list's length, and the list's filters stay in the links between pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from aftercrisis.accounts.roles import Role
from aftercrisis.outcomes.models import SeriousAdverseEvent
from aftercrisis.participants.models import Status

pytestmark = pytest.mark.django_db

PAGE_SIZE = 3
ROWS = PAGE_SIZE + 2
# a body row of a table that folds into cards on a phone: cells, where its header row has headings
RESPONSIVE_ROW = r'<tr class="nhsuk-table__row" role="row">\s*<td'
# (role, list's address, what marks one of its rows)
LISTS = {
    "participants": (Role.TRIAL_MANAGER, "/participants/?site=CAM", RESPONSIVE_ROW),
    "worklist": (Role.RESEARCHER, "/worklist/", r'<tr class="nhsuk-table__row">'),
    "caseload": (Role.PEER_SUPPORT_WORKER, "/caseload/", RESPONSIVE_ROW),
    "referrals": (Role.REFERRER, "/recruitment/referrals/", r'<tr class="nhsuk-table__row">'),
    "screening log": (
        Role.TRIAL_MANAGER,
        "/recruitment/screening-log/",
        r'<tr class="nhsuk-table__row">\s*<td class="nhsuk-table__cell"><a',
    ),
    "serious adverse events": (Role.TRIAL_MANAGER, "/outcomes/safety/", r'<tr class="nhsuk-table__row">'),
    "awaiting dispatch": (
        Role.TRIAL_MANAGER,
        "/peer-support/dispatch/",
        r'<li><a href="/peer-support/dispatch/',
    ),
    "unblinding requests": (
        Role.TRIAL_MANAGER,
        "/randomisation/unblinding/",
        r'<tr class="nhsuk-table__row">',
    ),
    "acute-care episodes": (
        Role.TRIAL_MANAGER,
        "/outcomes/episodes/",
        r'<tr class="nhsuk-table__row">\s*<td class="nhsuk-table__cell"><a',
    ),
    "overlapping episodes": (
        Role.TRIAL_MANAGER,
        "/outcomes/episodes/reconcile/",
        r'<div class="nhsuk-card">',
    ),
    "trial reports": (Role.STATISTICIAN, "/reports/trial-report/", r'<tr class="nhsuk-table__row">'),
}


@pytest.fixture
def longer_lists(supported, make_participant, staff, actor_of, core_protocol):
    """More rows than a page holds in every list."""
    from aftercrisis.outcomes.services import EpisodeDraft, record_episodes
    from aftercrisis.randomisation.unblinding import request_unblinding
    from aftercrisis.reporting.models import ReportSnapshot

    today = timezone.localdate()
    followed_up = [
        make_participant(status=Status.RANDOMISED, on=today - dt.timedelta(days=125)) for _ in range(ROWS)
    ]
    on_caseload = [supported() for _ in range(ROWS)]
    for _ in range(ROWS):
        make_participant(status=Status.SCREENED)
    researcher = staff[Role.RESEARCHER]
    for p in on_caseload:
        SeriousAdverseEvent.objects.create(
            participant=p, category="self_harm", onset=p.referred_on, description="example",
            seriousness="hospitalisation", relatedness="not_related", expectedness="expected",
            reported_by=researcher, reported_on=p.referred_on,
        )  # fmt: skip
        request_unblinding(
            actor_of(Role.RESEARCHER), p, reason="clinical emergency", by=researcher, notify=False
        )
    start = today - dt.timedelta(days=60)
    drafts = [
        EpisodeDraft(p, "inpatient_ward", start, start + dt.timedelta(days=9), "informal", source, "", "form")
        for p in followed_up
        for source in ("clinical_records", "self_report")
    ]
    record_episodes(actor_of(Role.RESEARCHER), core_protocol, drafts, by=researcher, today=today)
    for _ in range(ROWS):
        ReportSnapshot.objects.create(
            produced_by=staff[Role.STATISTICIAN], blinded=True, database_locked=False, dataset_sha256="0" * 64,
            protocol_version="1.0", software_version="test", participants=0, html="", results={},
        )  # fmt: skip


def _rows(html: str, marker: str) -> int:
    return len(re.findall(marker, html))


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_long_list_comes_a_page_at_a_time(client, staff, longer_lists, monkeypatch, name):
    import aftercrisis.pagination

    monkeypatch.setattr(aftercrisis.pagination, "PAGE_SIZE", PAGE_SIZE)
    role, address, marker = LISTS[name]
    client.force_login(staff[role])
    joiner = "&" if "?" in address else "?"
    first = client.get(address).content.decode()
    second = client.get(f"{address}{joiner}page=2").content.decode()
    assert 'aria-label="Page 2" aria-current="page"' in second
    assert _rows(first, marker) == PAGE_SIZE
    assert 0 < _rows(second, marker) <= PAGE_SIZE


def test_the_filters_stay_in_the_links_between_pages(client, staff, longer_lists, monkeypatch):
    import aftercrisis.pagination

    monkeypatch.setattr(aftercrisis.pagination, "PAGE_SIZE", PAGE_SIZE)
    for role, address, filters in [
        (Role.TRIAL_MANAGER, "/participants/", "site=CAM&status=randomised"),
        (Role.TRIAL_MANAGER, "/recruitment/screening-log/", "site=CAM&outcome=eligible"),
        (Role.REFERRER, "/recruitment/referrals/", "site=CAM"),
        (Role.TRIAL_MANAGER, "/outcomes/episodes/", "site=CAM&setting=inpatient_ward"),
    ]:
        client.force_login(staff[role])
        page = client.get(f"{address}?{filters}&page=2").content.decode()
        kept = filters.replace("&", "&amp;")
        assert f'href="?{kept}&amp;page=1"' in page and f'href="?{kept}&amp;page=3"' in page
        # and in the links that order the list, which start again from its first page
        assert f'href="?{kept}&amp;sort=' in page
        sorted_page = client.get(f"{address}?{filters}&sort=trial_id&page=2").content.decode()
        assert f'href="?{kept}&amp;sort=trial_id&amp;page=1"' in sorted_page
