"""The trial report from live data: blinded before lock, unblinded after, CONSORT counts from the database."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import matplotlib.pyplot as plt
import pytest
from django.test import Client
from tests.conftest import DEMO_TODAY

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.lock.models import DatabaseLockEvent, LockAction
from aftercrisis.reporting.dataset import analysis_dataset
from aftercrisis.reporting.models import ReportSnapshot
from aftercrisis.reporting.reports import enrolment

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_dataset_from_the_database_has_one_row_per_randomised_participant(demo, core_protocol):
    from aftercrisis.participants.models import Identity
    from aftercrisis.randomisation.models import Allocation

    frame = analysis_dataset(core_protocol, DEMO_TODAY)
    allocations = dict(Allocation.objects.values_list("participant__trial_id", "arm"))
    assert sorted(frame["participant_id"]) == sorted(allocations)
    assert dict(zip(frame["participant_id"], frame["arm"], strict=True)) == allocations
    assert (frame.loc[frame["arm"] == "control", "sessions_attended"] == 0).all()
    identities = Identity.objects.all()
    text = frame.to_csv(index=False)
    assert not any(i.nhs_number in text or i.family_name in text for i in identities)


def test_consort_counts_equal_a_direct_count_from_the_database(demo, core_protocol):
    from aftercrisis.participants.models import Withdrawal, WithdrawalLevel
    from aftercrisis.randomisation.models import Allocation
    from aftercrisis.recruitment.models import AnonymousScreenFailure, Screening
    from aftercrisis.reporting.dataset import disposition

    manager = actor_for(User.objects.get(username="manager"), Role.TRIAL_MANAGER)
    frame = analysis_dataset(core_protocol, DEMO_TODAY)
    assessed, excluded = enrolment(manager, len(frame))
    flow = disposition(core_protocol, frame, assessed, excluded,
                       labels_for={"intervention": "Peer support", "control": "Workbook by post"}, blinded=False)  # fmt: skip
    flow.check()

    screened = Screening.objects.count() + sum(AnonymousScreenFailure.objects.values_list("count", flat=True))
    assert assessed == screened
    by_arm = Counter(Allocation.objects.values_list("arm", flat=True))
    assert {a.label: a.allocated for a in flow.arms} == {
        "Peer support": by_arm["intervention"],
        "Workbook by post": by_arm["control"],
    }
    withdrawn = set(
        Withdrawal.objects.filter(level=WithdrawalLevel.ALL_DATA).values_list("participant_id", flat=True)
    )
    for arm, label in (("intervention", "Peer support"), ("control", "Workbook by post")):
        flows = next(a for a in flow.arms if a.label == label)
        lost_by_withdrawal = Allocation.objects.filter(arm=arm, participant_id__in=withdrawn).count()
        assert flows.lost_to_follow_up.get("withdrew from all further data", 0) <= lost_by_withdrawal
        assert flows.analysed + sum(flows.lost_to_follow_up.values()) == by_arm[arm]


def test_follow_up_completeness_equals_a_count_from_each_window(demo, core_protocol):
    """Counted in the database, it agrees with each participant's own windows and visit records."""
    from aftercrisis.followup.models import VisitOutcome, VisitRecord
    from aftercrisis.followup.schedule import follow_up_windows
    from aftercrisis.participants.models import Participant
    from aftercrisis.reporting.selectors import follow_up_completeness

    manager = actor_for(User.objects.get(username="manager"), Role.TRIAL_MANAGER)
    outcomes = {(r.participant_id, r.visit): r.outcome for r in VisitRecord.objects.all()}
    kinds = {
        VisitOutcome.COMPLETED: "completed",
        VisitOutcome.MISSED: "missed",
        VisitOutcome.DECLINED: "missed",
    }
    expected: Counter[tuple[str, str]] = Counter()
    for p in Participant.objects.filter(allocation__isnull=False).select_related("allocation"):
        for window in follow_up_windows(core_protocol, p.allocation.randomised_on):
            if window.closes < DEMO_TODAY:
                expected[window.code, "closed"] += 1
                expected[window.code, kinds.get(outcomes.get((p.pk, window.code)), "none")] += 1
    rows = follow_up_completeness(manager, core_protocol, DEMO_TODAY)
    assert [r.code for r in rows] == ["m4", "m18"] and expected["m4", "closed"] > 0
    for r in rows:
        assert (r.window_closed, r.completed, r.missed_or_declined, r.not_recorded) == (
            expected[r.code, "closed"],
            expected[r.code, "completed"],
            expected[r.code, "missed"],
            expected[r.code, "none"],
        )


def test_randomisations_by_month_equal_a_count_of_each_allocation(demo):
    """Counted by day in the database and added up by month: each allocation's month, every month from
    the first to the last shown, none missing."""
    from aftercrisis.randomisation.models import Allocation
    from aftercrisis.reporting.selectors import randomisations_by_month

    months = Counter(f"{on:%Y-%m}" for on in Allocation.objects.values_list("randomised_on", flat=True))
    statistician = actor_for(User.objects.get(username="statistician"), Role.STATISTICIAN)
    shown = randomisations_by_month(statistician)
    assert {m: n for m, n in shown if n} == months and sum(n for _, n in shown) == sum(months.values()) > 0
    assert shown[0][0] == min(months) and shown[-1][0] == max(months)
    first, last = dt.date.fromisoformat(f"{min(months)}-01"), dt.date.fromisoformat(f"{max(months)}-01")
    assert len(shown) == (last.year - first.year) * 12 + last.month - first.month + 1


def test_before_lock_the_report_is_blinded_and_after_lock_it_names_the_arms(demo, core_protocol):
    manager, statistician = _client("manager"), _client("statistician")
    assert statistician.get("/reports/analysis-dataset.csv").status_code == 403

    open_figures = plt.get_fignums()
    assert statistician.post("/reports/trial-report/").status_code == 302
    assert plt.get_fignums() == open_figures  # a server's process keeps no figure of a report it produced
    blinded = ReportSnapshot.objects.get()
    assert blinded.blinded and blinded.participants == ReportSnapshot.objects.get().participants
    for name in [a.name for a in core_protocol.arms] + [a.code for a in core_protocol.arms]:
        assert name not in blinded.html
    assert blinded.results["comparison"] == {"compared": "A", "reference": "B"}
    assert set(blinded.results["primary"]["adjusted"]) >= {"or", "ci", "p", "covariates"}
    assert blinded.results["health_economics"]["estimable"] is False  # the arms' own costs differ
    download = statistician.get(f"/reports/trial-report/{blinded.pk}.html")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")

    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=User.objects.get(username="manager"), reason="final analysis"
    )
    assert statistician.post("/reports/trial-report/").status_code == 302
    unblinded = ReportSnapshot.objects.filter(blinded=False).get()
    assert "Peer-supported self-management" in unblinded.html
    economic = unblinded.results["health_economics"]
    assert economic["estimable"] is True, economic.get("reason")
    assert "Cost-effectiveness plane" in unblinded.html and "Health economics" in unblinded.html
    assert statistician.get(f"/reports/trial-report/{unblinded.pk}.pdf")["Content-Type"] == "application/pdf"
    dataset = statistician.get("/reports/analysis-dataset.csv").content.decode()
    assert dataset.splitlines()[0].startswith("participant_id,site,arm,randomised_on")

    # Unlocked again: the statistician no longer reaches the unblinded report.
    DatabaseLockEvent.objects.create(
        action=LockAction.UNLOCKED, by=User.objects.get(username="manager"), reason="query"
    )
    assert statistician.get(f"/reports/trial-report/{unblinded.pk}.html").status_code == 404
    assert manager.get(f"/reports/trial-report/{unblinded.pk}.html").status_code == 200
    assert dt.date.today()  # the snapshot keeps its own time stamp
    assert unblinded.results["stamp"]["blinded"] is False


def test_outcomes_derived_from_the_database_equal_the_simulated_truth(demo, core_protocol):
    """The demo stores the simulator's episodes, deaths and withdrawals through the services; the
    derivation from the database must give back the simulator's own one-year outcomes."""
    import math

    from aftercrisis.demo.loader import _simulate
    from aftercrisis.design.simulate import analysis_columns
    from aftercrisis.randomisation.models import Allocation

    trial = _simulate(core_protocol, DEMO_TODAY, 7, 60)
    truth = trial.participants.merge(analysis_columns(trial), on="participant")
    trial_id_of = {}
    for site, rows in truth.groupby("site", sort=False):
        allocations = Allocation.objects.filter(participant__site__code=site).order_by("slot__position")
        for participant, allocation in zip(rows["participant"], allocations, strict=False):
            trial_id_of[participant] = allocation.participant.trial_id
    frame = analysis_dataset(core_protocol, DEMO_TODAY).set_index("participant_id")
    compared = 0
    for row in truth.itertuples():
        live = frame.loc[trial_id_of[row.participant]]
        assert live["arm"] == row.arm
        for column in ("readmitted_1y", "readmission_event", "days_to_readmission", "died_1y"):
            expected, got = getattr(row, column), live[column]
            if isinstance(expected, float) and math.isnan(expected):
                assert got is None or (isinstance(got, float) and math.isnan(got)), (row.participant, column)
            else:
                assert got == expected, (row.participant, column, got, expected)
        compared += 1
    assert compared == 60


def test_a_report_before_the_primary_outcome_is_known_is_refused_with_the_reason(
    client, staff, make_participant, allocation_lists
):
    from aftercrisis.participants.models import Status

    for _ in range(4):
        make_participant("CAM", Status.RANDOMISED, on=dt.date.today() - dt.timedelta(days=30))
    client.force_login(staff[Role.STATISTICIAN])
    refused = client.post("/reports/trial-report/")
    assert refused.status_code == 409
    assert b"cannot be produced yet: the primary outcome cannot be estimated" in refused.content
    assert not ReportSnapshot.objects.exists()
