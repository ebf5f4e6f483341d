"""Screening, consent, decline, withdrawal and the screening log through their pages."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.participants.models import Status
from aftercrisis.recruitment.models import AnonymousScreenFailure, Screening

pytestmark = pytest.mark.django_db
INCLUSION = ["adult", "crt_caseload", "near_discharge", "capacity"]
EXCLUSION = ["risk_to_others", "outside_catchment", "english_materials"]


def _answers(**override):
    answers = {f"criterion_{c}": "yes" for c in INCLUSION} | {f"criterion_{c}": "no" for c in EXCLUSION}
    return answers | {f"criterion_{k}": v for k, v in override.items()}


def test_screening_page_names_an_unanswered_criterion_and_saves_nothing(client, staff, make_participant):
    p = make_participant()
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("recruitment:screen", kwargs={"trial_id": p.trial_id})
    form = {"screened_on": "2026-01-06", "outcome": "eligible", "reason": "", **_answers()}
    del form["criterion_capacity"]
    page = client.post(url, form).content.decode()
    assert "Answer whether &#39;Has capacity to give informed consent.&#39; applies" in page
    assert not Screening.objects.exists()
    client.post(url, {**form, **_answers(english_materials="yes")})
    p.refresh_from_db()
    assert (p.status, p.screening.reason) == (Status.NOT_ENROLLED, "english_materials")


def test_consent_then_decline_pages(client, staff, make_participant):
    client.force_login(staff[Role.RESEARCHER])
    consenting, declining = make_participant(status=Status.SCREENED), make_participant(status=Status.SCREENED)
    url = reverse("recruitment:consent", kwargs={"trial_id": consenting.trial_id})
    page = client.post(url, {"taken_on": "2026-01-06", "capacity_confirmed": "on", "item_take_part": "on"})
    assert "This item is required" in page.content.decode()
    client.post(
        url,
        {
            "taken_on": "2026-01-06",
            "capacity_confirmed": "on",
            "item_take_part": "on",
            "item_clinical_records": "on",
        },
    )
    consenting.refresh_from_db()
    assert consenting.status == Status.CONSENTED
    client.post(
        reverse("recruitment:decline", kwargs={"trial_id": declining.trial_id}), {"reason": "no_time"}
    )
    declining.refresh_from_db()
    assert (declining.status, declining.screening.outcome) == (Status.NOT_ENROLLED, "declined")


def test_withdrawal_page_offers_masked_roles_no_peer_support_level(
    client, staff, allocation_lists, make_participant
):
    p = make_participant(status=Status.RANDOMISED)
    url = reverse("recruitment:withdraw", kwargs={"trial_id": p.trial_id})
    client.force_login(staff[Role.RESEARCHER])
    assert "From peer support only" not in client.get(url).content.decode()
    client.force_login(staff[Role.TRIAL_MANAGER])
    assert "From peer support only" in client.get(url).content.decode()


def test_screening_log_counts_anonymous_failures(client, staff, sites):
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("recruitment:screening_log")
    form = {"site": sites["CAM"].pk, "screened_on": "2026-01-06", "outcome": "declined", "reason": "no_time"}
    assert "Number of people" in client.post(url, {**form, "count": 0}).content.decode()
    client.post(url, {**form, "count": 4})
    assert AnonymousScreenFailure.objects.get().count == 4
    page = client.get(url).content.decode()
    assert "Does not have the time</td>" in page and ">no time<" not in page  # the reason in words
    assert "Randomised to" not in page  # pooled for the masked researcher


def test_screening_log_count_overflow_is_refused_and_a_large_count_needs_confirming(client, staff, sites):
    """Fault 1: 2**63 - 1 people on one line made this page and the trial report fail for everyone."""
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("recruitment:screening_log")
    form = {"site": sites["CAM"].pk, "screened_on": "2026-01-06", "outcome": "declined", "reason": "no_time"}
    for count in [2**63 - 1, 10**30, 1001, -1]:
        page = client.post(url, {**form, "count": count, "large_count_confirmed": "on"})
        assert page.status_code == 200
        assert "Number of people must be between 1 and 1,000" in page.content.decode()
    page = client.post(url, {**form, "count": 51})
    assert "Number of people: 51 is unusually many for one line" in page.content.decode()
    assert not AnonymousScreenFailure.objects.exists()
    client.post(url, {**form, "count": 1000, "large_count_confirmed": "on"})
    client.post(url, {**form, "count": 50})
    assert sorted(AnonymousScreenFailure.objects.values_list("count", flat=True)) == [50, 1000]
    page = client.get(url)
    assert page.status_code == 200 and "1050" in page.content.decode()


def test_screening_log_count_range_holds_in_the_database(staff, sites):
    with pytest.raises(IntegrityError), transaction.atomic():
        AnonymousScreenFailure.objects.create(
            site=sites["CAM"],
            screened_on="2026-01-06",
            outcome="declined",
            reason="no_time",
            count=2**31 - 1,
            recorded_by=staff[Role.RESEARCHER],
        )
    assert not AnonymousScreenFailure.objects.exists()


def test_the_screening_log_gives_reasons_in_words_and_sorts_by_its_columns(
    client, staff, make_participant, actor_of, core_protocol
):
    import datetime as dt

    from aftercrisis.demo.recruitment import eligible_answers
    from aftercrisis.recruitment.services import record_screening

    young, older = make_participant("CAM"), make_participant("CAM")
    for person, day, criterion in [(young, 3, "adult"), (older, 4, "risk_to_others")]:
        answers = eligible_answers(core_protocol) | {criterion: criterion != "adult"}
        record_screening(
            actor_of(Role.RESEARCHER),
            person,
            core_protocol,
            answers=answers,
            on=dt.date(2026, 1, 5 + day),
            by=staff[Role.RESEARCHER],
        )
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("recruitment:screening_log")
    page = client.get(url).content.decode()
    assert "does not meet: Aged 18 or over" in page
    assert "Judged by the clinical team to pose a high risk to others" in page
    assert page.index(older.trial_id) < page.index(young.trial_id)  # newest first
    page = client.get(url, {"sort": "screened"}).content.decode()
    assert page.index(young.trial_id) < page.index(older.trial_id)
    for hostile in ["outcome__arm", "participant__allocation__arm", "-" * 300]:
        assert client.get(url, {"sort": hostile}).status_code == 200
    assert client.get(url, {"sort": "\x00"}).status_code == 400


def test_the_referrals_and_the_screening_log_filter_by_listed_values_only(
    client, staff, sites, make_participant, actor_of, core_protocol
):
    """Sites in the actor's scope and the screening outcomes filter; any other value (a site elsewhere, an
    outcome that is not one) is ignored, and a NUL character, which PostgreSQL refuses, is a bad request."""
    import datetime as dt

    from aftercrisis.accounts.models import RoleAssignment
    from aftercrisis.demo.recruitment import eligible_answers
    from aftercrisis.recruitment.services import record_screening

    cam, bri, young = (
        make_participant("CAM", Status.SCREENED),
        make_participant("BRI", Status.SCREENED),
        make_participant("CAM"),
    )
    record_screening(
        actor_of(Role.RESEARCHER), young, core_protocol, answers=eligible_answers(core_protocol) | {"adult": False},
        on=dt.date(2026, 1, 6), by=staff[Role.RESEARCHER],
    )  # fmt: skip
    everyone = {cam.trial_id, bri.trial_id, young.trial_id}
    hostile = ["ZZZ", "eligible' --", "outcome__in", "x" * 5000]

    def listed(url: str, marker: str, **filters: str) -> set[str]:
        page = client.get(url, filters)
        assert page.status_code == 200
        return {t for t in everyone if marker.format(t) in page.content.decode()}

    log, in_log = reverse("recruitment:screening_log"), '">{}</a>'
    client.force_login(staff[Role.TRIAL_MANAGER])
    assert listed(log, in_log) == everyone
    assert listed(log, in_log, site="BRI") == {bri.trial_id}
    assert listed(log, in_log, outcome="not_eligible") == {young.trial_id}
    assert listed(log, in_log, site="CAM", outcome="eligible") == {cam.trial_id}
    assert listed(log, in_log, site="BRI", outcome="not_eligible") == set()
    for value in hostile:
        assert listed(log, in_log, site=value, outcome=value) == everyone
    assert client.get(log, {"site": "nul\x00byte", "outcome": "nul\x00byte"}).status_code == 400
    client.force_login(staff[Role.RESEARCHER])  # at CAM only: BRI is no filter of theirs
    assert listed(log, in_log, site="BRI") == {cam.trial_id, young.trial_id}

    referrer = staff[Role.REFERRER]
    referrals, in_referrals = reverse("recruitment:referrals"), '<td class="nhsuk-table__cell">{}</td>'
    client.force_login(referrer)
    assert listed(referrals, in_referrals, site="BRI") == everyone  # not among the referrer's sites
    RoleAssignment.objects.create(user=referrer, role=Role.REFERRER, site=sites["BRI"])
    assert listed(referrals, in_referrals, site="CAM") == {cam.trial_id, young.trial_id}
    assert listed(referrals, in_referrals, site="BRI") == {bri.trial_id}
    for value in hostile:
        assert listed(referrals, in_referrals, site=value) == everyone
    assert client.get(referrals, {"site": "nul\x00byte"}).status_code == 400
