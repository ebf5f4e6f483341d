"""The trial manager's pictures: each site's randomisations against target, the participant flow and
follow-up completed, drawn live as SVG with text alternatives."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from tests.conftest import DEMO_TODAY

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.charts import accrual_svg, completeness_svg, flow_svg
from aftercrisis.followup.models import VisitOutcome, VisitRecord
from aftercrisis.participants.models import Status
from aftercrisis.randomisation.models import Allocation
from aftercrisis.recruitment.selectors import (
    follow_up_completeness,
    randomisation_dates_by_site,
    randomised_by_day,
)

pytestmark = pytest.mark.django_db
START = dt.date(2025, 1, 6)


def test_the_accrual_line_climbs_one_step_per_randomisation_against_the_plan():
    dates = [START, START + dt.timedelta(days=10), START + dt.timedelta(days=40)]
    svg = accrual_svg(
        [(day, 1) for day in dates],
        target=20,
        planned_days=100,
        today=START + dt.timedelta(days=50),
        title="Camden",
        key="cam",
    )
    assert '<title id="cam-title">Camden</title>' in svg
    assert "3 randomised of a target of 20; the plan expects 10 by 25 February 2025." in svg
    points = re.search(r'<polyline points="([^"]+)"', svg)[1].split()
    heights = [float(p.split(",")[1]) for p in points]
    assert len(points) == 2 * len(dates) + 2  # from the first day, a step up at each date, on to today
    assert len(set(heights)) == len(dates) + 1 and heights == sorted(heights, reverse=True)
    # Three randomised on one day: one step three high, the same line as three steps of one on that day.
    same_day = accrual_svg(
        [(START, 1), (START + dt.timedelta(days=10), 3)],
        target=20,
        planned_days=100,
        today=START,
        title="",
        key="c",
    )
    assert "4 randomised of a target of 20" in same_day
    points = re.search(r'<polyline points="([^"]+)"', same_day)[1].split()
    heights = [float(p.split(",")[1]) for p in points]
    assert heights[3] - heights[4] == pytest.approx(3 * (heights[1] - heights[2])) and heights[1] > heights[2]
    empty = accrual_svg([], target=20, planned_days=100, today=START, title="Enfield", key="enf")
    assert "0 randomised of a target of 20; the plan expects 0" in empty


def test_flow_and_completeness_say_their_numbers_in_words():
    flow = flow_svg(
        [("Screened", 30), ("Randomised", 12)], [("Arm A", 6), ("Arm B", 6)], title="Flow", key="f"
    )
    assert "Screened: 30; Randomised: 12; Arm A: 6; Arm B: 6" in flow
    done = completeness_svg([("Four months", 3, 4)], title="Follow-up", key="c")
    assert "Four months: 3 of 4 completed" in done and ">3/4</text>" in done


def test_the_recruitment_page_draws_the_sites_and_follow_up_from_live_data(
    allocation_lists, make_participant, staff, actor_of, core_protocol, client
):
    long_ago = dt.date.today() - dt.timedelta(days=200)
    cam = [make_participant("CAM", Status.RANDOMISED, on=long_ago) for _ in range(2)]
    make_participant("BRI", Status.RANDOMISED, on=dt.date.today() - dt.timedelta(days=3))
    VisitRecord.objects.create(
        participant=cam[0], visit="m4", outcome=VisitOutcome.COMPLETED, on=long_ago + dt.timedelta(days=120)
    )
    manager = actor_of(Role.TRIAL_MANAGER)
    randomised = randomised_by_day(manager, core_protocol)
    dates = randomisation_dates_by_site(randomised, [s.code for s in core_protocol.sites])
    assert dates["CAM"] == [(long_ago, 2)] and len(dates["BRI"]) == 1 and dates["ISL"] == []
    m4, m18 = follow_up_completeness(randomised, core_protocol, dt.date.today())
    assert (m4[1], m4[2]) == (1, 2)  # both CAM windows have closed; the BRI one has not opened
    assert (m18[1], m18[2]) == (0, 0)
    client.force_login(staff[Role.TRIAL_MANAGER])
    page = client.get(reverse("recruitment:by_site")).content.decode()
    target = core_protocol.site_target("CAM")
    assert f"2 randomised of a target of {target}" in page
    assert "Randomised: 3" in page and f"{m4[0]}: 1 of 2 completed" in page


def test_accrual_and_follow_up_counted_in_the_database_equal_each_participants_own(demo, core_protocol):
    """Counted by site and day in the database: the same accrual and follow-up as from each allocation one by one."""
    from collections import Counter

    from aftercrisis.followup.schedule import follow_up_windows

    today = DEMO_TODAY
    rows = list(Allocation.objects.values_list("participant_id", "participant__site__code", "randomised_on"))
    completed = set(
        VisitRecord.objects.filter(outcome=VisitOutcome.COMPLETED).values_list("participant_id", "visit")
    )
    by_day = Counter((site, on) for _, site, on in rows)
    expected_days = {s.code: sorted((on, n) for (site, on), n in by_day.items() if site == s.code)
                     for s in core_protocol.sites}  # fmt: skip
    manager = actor_for(User.objects.get(username="manager"), Role.TRIAL_MANAGER)
    randomised = randomised_by_day(manager, core_protocol)
    assert randomisation_dates_by_site(randomised, [s.code for s in core_protocol.sites]) == expected_days
    assert sum(n for days in expected_days.values() for _, n in days) == len(rows) > 0
    expected = []
    for visit in [v for v in core_protocol.visits if v.day > 0]:
        done = sum((pid, visit.code) in completed for pid, _, _ in rows)
        due = sum(
            (pid, visit.code) in completed
            or next(w for w in follow_up_windows(core_protocol, on) if w.code == visit.code).closes < today
            for pid, _, on in rows
        )
        expected.append((visit.name, done, due))
    assert follow_up_completeness(randomised, core_protocol, today) == expected
    assert any(done for _, done, _ in expected)
