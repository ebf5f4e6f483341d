"""Resource use counted from clinical records: the form, the service, the audit, the dataset."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.audit import history_of
from aftercrisis.economics.models import ResourceUse
from aftercrisis.economics.selectors import days_from_episodes, entered_for, typed_resources
from aftercrisis.economics.services import record_resource_use
from aftercrisis.outcomes.services import EpisodeDraft, record_episodes
from aftercrisis.participants.models import Status
from aftercrisis.reporting.dataset import analysis_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def randomised(allocation_lists, make_participant):
    return make_participant("CAM", Status.RANDOMISED)


def _all_units(core_protocol, value=3):
    return {(t.period, t.code): value for t in typed_resources(core_protocol)}


def _post_data(core_protocol, value="3", **overrides):
    data = {}
    for t in typed_resources(core_protocol):
        data[f"units_{t.period}_{t.code}"] = value
    data.update(overrides)
    return data


def test_typed_resources_are_those_counted_from_records_and_never_peer_support(core_protocol):
    typed = {(t.period, t.code) for t in typed_resources(core_protocol)}
    records = {"crisis_team_contact", "cmht_contact", "ae_attendance"}
    episodes = {"inpatient_ward_day", "crisis_house_day", "acute_day_unit_day"}
    assert typed == {("0", c) for c in records | episodes} | {("1y", c) for c in records}
    assert not {c for _, c in typed} & {"peer_support_hour", "workbook"}


def test_a_researcher_records_counts_and_not_known_apart_from_zero(
    randomised, actor_of, staff, core_protocol
):
    units = _all_units(core_protocol, 0) | {("1y", "ae_attendance"): None, ("1y", "cmht_contact"): 7}
    record_resource_use(
        actor_of(Role.RESEARCHER), core_protocol, randomised, units, by=staff[Role.RESEARCHER]
    )
    entered = entered_for(randomised)
    assert entered[("1y", "ae_attendance")] is None
    assert entered[("1y", "crisis_team_contact")] == 0
    assert entered[("1y", "cmht_contact")] == 7
    row = ResourceUse.objects.get(participant=randomised, period="1y", resource="cmht_contact")
    assert history_of(row)[0]["reason"] == "counted from clinical records"


def test_a_change_needs_a_reason_and_is_kept_in_the_history(randomised, actor_of, staff, core_protocol):
    actor, user = actor_of(Role.RESEARCHER), staff[Role.RESEARCHER]
    record_resource_use(actor, core_protocol, randomised, _all_units(core_protocol), by=user)
    changed = {("1y", "cmht_contact"): 9}
    with pytest.raises(ValidationError) as refused:
        record_resource_use(actor, core_protocol, randomised, changed, by=user)
    assert "reason" in refused.value.message_dict
    assert entered_for(randomised)[("1y", "cmht_contact")] == 3
    record_resource_use(actor, core_protocol, randomised, changed, by=user, reason="second record found")
    row = ResourceUse.objects.get(participant=randomised, period="1y", resource="cmht_contact")
    latest = history_of(row)[0]
    assert row.units == 9 and latest["reason"] == "second record found"
    assert latest["changes"] == [{"field": "units", "before": "3", "after": "9"}]


@pytest.mark.parametrize(
    ("units", "words"),
    [
        ({("1y", "taxi_ride"): 1}, "'taxi_ride' is not a resource of the protocol counted from records"),
        ({("1y", "inpatient_ward_day"): 4}, "'inpatient_ward_day' is not a resource"),  # from the episodes
        ({("1y", "peer_support_hour"): 4}, "'peer_support_hour' is not a resource"),
        ({("0", "cmht_contact"): -1}, "Community mental health team, contact: -1 is outside 0 to 10,000"),
    ],
)
def test_bad_counts_are_refused_by_name_and_nothing_is_written(
    randomised, actor_of, staff, core_protocol, units, words
):
    good = _all_units(core_protocol)
    with pytest.raises(ValidationError) as refused:
        record_resource_use(
            actor_of(Role.RESEARCHER), core_protocol, randomised, good | units, by=staff[Role.RESEARCHER]
        )
    assert any(words in m for m in refused.value.messages)
    assert not ResourceUse.objects.exists()


def test_only_roles_that_record_outcomes_may_write(randomised, actor_of, staff, core_protocol):
    with pytest.raises(PermissionDenied):
        record_resource_use(
            actor_of(Role.STATISTICIAN),
            core_protocol,
            randomised,
            _all_units(core_protocol),
            by=staff[Role.STATISTICIAN],
        )


def test_days_in_acute_care_come_from_the_episodes(randomised, actor_of, staff, core_protocol):
    on = randomised.allocation.randomised_on
    drafts = [
        EpisodeDraft(randomised, "inpatient_ward", on + dt.timedelta(days=10), on + dt.timedelta(days=24), "", "clinical_records", "", "form", ""),
        EpisodeDraft(randomised, "acute_day_unit", on + dt.timedelta(days=40), on + dt.timedelta(days=42), "", "clinical_records", "", "form", ""),
    ]  # fmt: skip
    record_episodes(
        actor_of(Role.RESEARCHER),
        core_protocol,
        drafts,
        by=staff[Role.RESEARCHER],
        today=on + dt.timedelta(days=60),
    )
    after_the_year = on + dt.timedelta(days=400)
    days = days_from_episodes(core_protocol, [randomised], after_the_year)[randomised.pk]
    assert days == {"inpatient_ward_day": 14, "crisis_house_day": 0, "acute_day_unit_day": 3}
    during = days_from_episodes(core_protocol, [randomised], on + dt.timedelta(days=100))[randomised.pk]
    assert set(during.values()) == {None}  # not known until the year's records are complete


def test_the_page_records_and_shows_nothing_that_differs_by_arm(client, randomised, staff, core_protocol):
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("economics:resource_use", kwargs={"trial_id": randomised.trial_id})
    page = client.get(url).content.decode()
    main = page[page.index("<main") : page.index("</main>")].lower()
    for word in ("peer support", "workbook", "intervention", "control", "allocat", "arm"):
        assert f" {word}" not in main
    data = _post_data(core_protocol, unknown_1y_ae_attendance="on", units_1y_ae_attendance="")
    response = client.post(url, data)
    assert response.status_code == 302
    assert entered_for(randomised)[("1y", "ae_attendance")] is None
    assert entered_for(randomised)[("0", "inpatient_ward_day")] == 3


def test_the_page_names_a_count_left_empty_and_a_negative_one(client, randomised, staff, core_protocol):
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("economics:resource_use", kwargs={"trial_id": randomised.trial_id})
    data = _post_data(core_protocol, units_1y_cmht_contact="", units_0_ae_attendance="-2")
    page = client.post(url, data).content.decode()
    assert "Enter the number of contacts, or tick not known (community mental health team, contact)" in page
    assert "Ensure this value is greater than or equal to 0" in page
    assert not ResourceUse.objects.exists()


def test_a_correction_on_the_page_asks_for_a_reason(client, randomised, staff, core_protocol):
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("economics:resource_use", kwargs={"trial_id": randomised.trial_id})
    client.post(url, _post_data(core_protocol))
    page = client.post(url, _post_data(core_protocol, units_1y_cmht_contact="5")).content.decode()
    assert "Give a reason for changing data that has already been entered" in page
    assert entered_for(randomised)[("1y", "cmht_contact")] == 3
    client.post(url, _post_data(core_protocol, units_1y_cmht_contact="5", reason="found a later letter"))
    assert entered_for(randomised)[("1y", "cmht_contact")] == 5


def test_the_live_dataset_fills_the_economic_columns(randomised, actor_of, staff, core_protocol):
    record_resource_use(
        actor_of(Role.RESEARCHER),
        core_protocol,
        randomised,
        _all_units(core_protocol, 2),
        by=staff[Role.RESEARCHER],
    )
    on = randomised.allocation.randomised_on
    frame = analysis_dataset(core_protocol, on + dt.timedelta(days=400)).set_index("participant_id")
    row = frame.loc[randomised.trial_id]
    assert row["use_cmht_contact_1y"] == 2 and row["use_inpatient_ward_day_0"] == 2
    assert row["use_inpatient_ward_day_1y"] == 0  # no episode in the year
    assert {"eq5d_0", "eq5d_4m", "eq5d_18m", "peer_support_hours"} <= set(frame.columns)


def test_before_randomisation_the_page_says_why_and_has_no_form(client, make_participant, staff):
    consented = make_participant("CAM", Status.CONSENTED)
    client.force_login(staff[Role.RESEARCHER])
    page = client.get(
        reverse("economics:resource_use", kwargs={"trial_id": consented.trial_id})
    ).content.decode()
    assert f"Resource use is counted once {consented.trial_id} is randomised." in page
    assert "<form" not in page[page.index("<main") :]


def test_the_page_makes_a_bounded_number_of_queries(client, randomised, actor_of, staff, core_protocol):
    record_resource_use(
        actor_of(Role.RESEARCHER),
        core_protocol,
        randomised,
        _all_units(core_protocol),
        by=staff[Role.RESEARCHER],
    )
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("economics:resource_use", kwargs={"trial_id": randomised.trial_id})
    client.get(url)  # warm the per-process caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) <= 10, [q["sql"][:80] for q in queries]
