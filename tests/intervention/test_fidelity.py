"""The fidelity dashboard's figures against an independent computation from the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import statistics
from dataclasses import replace

import pytest
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from aftercrisis.accounts.models import User
from aftercrisis.intervention.fidelity import Supported, days_to_first, fidelity, tallied

pytestmark = pytest.mark.django_db

# Plain SQL over the tables, written apart from the selector and the pure module.
PER_PARTICIPANT = """
SELECT p.trial_id, s.code, COALESCE(u.first_name || ' ' || u.last_name, ''), a.randomised_on,
       (SELECT COUNT(*) FROM intervention_session x WHERE x.participant_id = p.id AND x.outcome = 'held'),
       (SELECT MIN(x."on") FROM intervention_session x WHERE x.participant_id = p.id AND x.outcome = 'held')
FROM randomisation_allocation a
JOIN participants_participant p ON p.id = a.participant_id
JOIN accounts_site s ON s.id = p.site_id
LEFT JOIN intervention_caseloadassignment c ON c.participant_id = p.id
LEFT JOIN accounts_user u ON u.id = c.worker_id
WHERE a.arm = %s
"""
SECTIONS = """
SELECT x.participant_id, x.sections_covered FROM intervention_session x
JOIN randomisation_allocation a ON a.participant_id = x.participant_id
WHERE x.outcome = 'held' AND a.arm = %s
"""


def _independent(threshold: int):
    import json

    with connection.cursor() as cursor:
        cursor.execute(PER_PARTICIPANT, ["intervention"])
        rows = cursor.fetchall()
        cursor.execute(SECTIONS, ["intervention"])
        section_rows = cursor.fetchall()
    counts = [r[4] for r in rows]
    waits = [(_day(r[5]) - _day(r[3])).days for r in rows if r[5] is not None]
    covered: dict[str, set[int]] = {}
    for pid, raw in section_rows:
        for code in json.loads(raw) if isinstance(raw, str) else raw:
            covered.setdefault(code, set()).add(pid)
    by_worker: dict[str, list[int]] = {}
    for r in rows:
        by_worker.setdefault(r[2] or "Not assigned", []).append(r[4])
    by_site: dict[str, list[tuple]] = {}
    for r in rows:
        by_site.setdefault(r[1], []).append(r)
    return {
        "participants": len(rows),
        "started": sum(1 for n in counts if n >= 1),
        "threshold": sum(1 for n in counts if n >= threshold),
        "median_wait": statistics.median(waits),
        "histogram": [counts.count(k) for k in range(11)],
        "sections": {code: len(ids) for code, ids in covered.items()},
        "by_worker": {
            w: (len(c), sum(1 for n in c if n >= 1), sum(1 for n in c if n >= threshold), sum(c))
            for w, c in by_worker.items()
        },
        "by_site": {
            site: (
                len(people),
                sum(r[4] for r in people),
                statistics.median([(_day(r[5]) - _day(r[3])).days for r in people if r[5] is not None]),
            )
            for site, people in by_site.items()
        },
    }


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def test_dashboard_and_csv_equal_an_independent_computation(demo, core_protocol):
    threshold = core_protocol.analysis.uptake_threshold
    truth = _independent(threshold)
    client = Client()
    client.force_login(User.objects.get(username="manager"))

    page = client.get("/peer-support/fidelity/").content.decode()
    overall = re.search(r'<dl class="nhsuk-summary-list" id="overall">(.*?)</dl>', page, re.S).group(1)
    values = re.findall(r'<dd class="nhsuk-summary-list__value">(.*?)</dd>', overall)
    n, started, reached = truth["participants"], truth["started"], truth["threshold"]
    assert values[0] == str(n)
    assert values[1] == f"{started} ({round(100 * started / n)}%)"
    assert values[2] == f"{reached} ({round(100 * reached / n)}%)"
    assert values[3] == f"{truth['median_wait']:g}"
    histogram_table = page.split("Sessions attended</caption>")[1].split("</table>")[0]
    shown = [int(x) for x in re.findall(r"nhsuk-table__cell--numeric\">(\d+)<", histogram_table)]
    assert shown == truth["histogram"]
    sections_table = page.split("Workbook sections covered in sessions</caption>")[1].split("</table>")[0]
    shown_sections = [int(x) for x in re.findall(r"numeric\">(\d+)<", sections_table)]
    from aftercrisis.workbook.content import load_workbook

    assert shown_sections == [truth["sections"].get(c, 0) for c in load_workbook().section_codes]
    assert sum(shown_sections) > 0

    exported = list(csv.DictReader(io.StringIO(client.get("/peer-support/fidelity.csv").content.decode())))
    (everyone,) = [r for r in exported if r["grouping"] == "all"]
    assert (int(everyone["participants"]), int(everyone["started"])) == (n, started)
    assert int(everyone[f"at_least_{threshold}"]) == reached
    workers = {
        r["group"]: (
            int(r["participants"]),
            int(r["started"]),
            int(r[f"at_least_{threshold}"]),
            int(r["sessions"]),
        )
        for r in exported
        if r["grouping"] == "worker"
    }
    assert workers == truth["by_worker"]
    sites = {
        r["group"]: (int(r["participants"]), int(r["sessions"]), float(r["median_days_to_first_session"]))
        for r in exported
        if r["grouping"] == "site"
    }
    assert sites == truth["by_site"]
    assert sum(int(r["participants"]) for r in exported if r["grouping"] == "site") == n


people = st.lists(
    st.builds(
        Supported,
        trial_id=st.text(min_size=1, max_size=4),
        site=st.sampled_from(["CAM", "ISL", "BRI"]),
        worker=st.sampled_from(["", "Pat", "Paula"]),
        randomised_on=st.dates(dt.date(2014, 1, 1), dt.date(2015, 1, 1)),
        held_on=st.lists(st.dates(dt.date(2015, 1, 2), dt.date(2015, 6, 1)), max_size=10).map(tuple),
        sections=st.frozensets(st.sampled_from(["goals", "recovery"])),
    ).map(lambda p: replace(p, sections=p.sections if p.held_on else frozenset())),  # covered only when held
    max_size=30,
)


@given(people, st.integers(1, 10))
def test_groupings_add_up_to_the_whole(people, threshold):
    f = fidelity(*tallied(people), threshold=threshold, max_sessions=10, section_codes=["goals", "recovery"])
    assert sum(n for _, n in f.sessions_histogram) == len(people) == f.overall.participants
    assert f.overall.reached_threshold <= f.overall.started <= f.overall.participants
    for grouping in (f.by_site, f.by_worker):
        assert sum(u.participants for u in grouping) == f.overall.participants
        assert sum(u.started for u in grouping) == f.overall.started
        assert sum(u.sessions for u in grouping) == f.overall.sessions
    assert f.sessions_histogram[0][1] == f.overall.participants - f.overall.started
    assert all(n <= f.overall.started for _, n in f.sections_covered)


@given(people, st.integers(1, 10))
def test_tallies_give_what_each_participant_gives(people, threshold):
    """Counted from tallies, each site's and worker's figures are those of their participants one by one."""
    f = fidelity(*tallied(people), threshold=threshold, max_sessions=10, section_codes=["goals", "recovery"])
    for grouping, key in ((f.by_site, lambda p: p.site), (f.by_worker, lambda p: p.worker or "Not assigned")):
        for u in grouping:
            group = [p for p in people if key(p) == u.label]
            waits = [days_to_first(p) for p in group if p.held_on]
            assert u.participants == len(group)
            assert u.started == sum(1 for p in group if p.held_on)
            assert u.reached_threshold == sum(1 for p in group if len(p.held_on) >= threshold)
            assert u.sessions == sum(len(p.held_on) for p in group)
            assert u.median_days_to_first == (statistics.median(waits) if waits else None)
    assert dict(f.sections_covered) == {
        code: sum(1 for p in people if code in p.sections) for code in ("goals", "recovery")
    }


def test_a_manager_with_no_site_in_scope_counts_nobody(demo, core_protocol):
    """No allocation can be in scope: no tallies and no section covered, rather than a query that cannot be
    written."""
    from aftercrisis.accounts.policy import Actor
    from aftercrisis.accounts.roles import Role
    from aftercrisis.intervention.selectors import supported_participants

    manager = User.objects.get(username="manager")
    codes = ["goals", "recovery"]
    nobody = Actor(manager.pk, Role.TRIAL_MANAGER, frozenset())
    assert supported_participants(nobody, core_protocol, codes) == ([], {"goals": 0, "recovery": 0})
    everyone = Actor(manager.pk, Role.TRIAL_MANAGER, None)
    tallies, covered = supported_participants(everyone, core_protocol, codes)
    assert tallies and sum(covered.values()) > 0
