"""Episode entry, CSV and FHIR imports (all-or-nothing), reconciliation, deaths and SAEs."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.audit import history_of
from aftercrisis.outcomes.derivation import Rules, derive
from aftercrisis.outcomes.imports import (
    ADMISSION_SYSTEM,
    MAX_FILE_BYTES,
    NHS_NUMBER_SYSTEM,
    SETTING_SYSTEM,
    TRIAL_ID_SYSTEM,
    parse_csv,
    parse_fhir,
)
from aftercrisis.outcomes.models import AcuteCareEpisode, EpisodeReconciliation, SeriousAdverseEvent
from aftercrisis.outcomes.selectors import SafetyFilters, histories, overlaps_for, safety_listing
from aftercrisis.outcomes.services import EpisodeDraft, reconcile, record_death, record_episodes, sign_off_sae
from aftercrisis.participants.models import Participant, Status

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 2)


@pytest.fixture
def two(allocation_lists, make_participant):
    return make_participant("CAM", Status.RANDOMISED), make_participant("CAM", Status.RANDOMISED)


def _import(actor, protocol, parsed, user):
    assert parsed.problems == []
    return record_episodes(actor, protocol, parsed.drafts, by=user, today=TODAY)


def test_a_valid_csv_imports_every_row(two, actor_of, staff, core_protocol):
    a, b = two
    text = (
        "trial_id,setting,start,end,admission_type\n"
        f"{a.trial_id},inpatient_ward,2026-03-01,2026-03-20,detained\n"
        f"{b.trial_id},crisis_house,2026-04-02,,\n"
    )
    parsed = parse_csv(actor_of(Role.RESEARCHER), core_protocol, text, filename="records.csv")
    written = _import(actor_of(Role.RESEARCHER), core_protocol, parsed, staff[Role.RESEARCHER])
    assert [(e.participant, e.setting, e.end, e.admission_type, e.source_reference) for e in written] == [
        (a, "inpatient_ward", dt.date(2026, 3, 20), "detained", "records.csv row 1"),
        (b, "crisis_house", None, "", "records.csv row 2"),
    ]


def test_a_malformed_csv_changes_nothing_and_names_every_problem(
    two, make_participant, actor_of, staff, core_protocol
):
    a, _ = two
    elsewhere = make_participant("BRI")
    text = (
        "trial_id,setting,start,end,admission_type\n"
        f"{a.trial_id},inpatient_ward,2026-03-01,2026-03-20,informal\n"
        f"{a.trial_id},inpatient_ward,01/03/2026,2026-03-20,\n"
        f"NOPE-1,crisis_house,2026-04-02,,\n"
        f"{elsewhere.trial_id},crisis_house,2026-04-02,,\n"
        f"{a.trial_id},crisis_house,2026-04-02,2026-04-09,sectioned\n"
    )
    parsed = parse_csv(actor_of(Role.RESEARCHER), core_protocol, text, filename="records.csv")
    assert parsed.problems == [
        "row 2: start: '01/03/2026' is not a date (YYYY-MM-DD)",
        "row 3: trial_id: no participant 'NOPE-1' at your sites",
        f"row 4: trial_id: no participant '{elsewhere.trial_id}' at your sites",
        "row 5: admission_type: 'sectioned' is not one of informal, detained",
    ]
    bad_values = (
        "trial_id,setting,start,end,admission_type\n"
        f"{a.trial_id},hospital,2026-03-01,2026-02-20,\n"
        f"{a.trial_id},inpatient_ward,2030-01-01,,\n"
    )
    drafts = parse_csv(actor_of(Role.RESEARCHER), core_protocol, bad_values, filename="x.csv").drafts
    with pytest.raises(ValidationError) as caught:
        record_episodes(
            actor_of(Role.RESEARCHER), core_protocol, drafts, by=staff[Role.RESEARCHER], today=TODAY
        )
    assert caught.value.messages == [
        "row 1: setting: 'hospital' is not one of inpatient_ward, crisis_house, acute_day_unit, crt_reacceptance",
        "row 1: end: the end date is before the start date",
        "row 2: start: the start date cannot be in the future",
    ]
    assert AcuteCareEpisode.objects.count() == 0


def test_missing_csv_columns_are_named(actor_of, core_protocol):
    parsed = parse_csv(
        actor_of(Role.RESEARCHER), core_protocol, "trial_id,begin\nX,2026-01-01\n", filename="x.csv"
    )
    assert parsed.problems == ["header: missing column(s) setting, start"]


def test_a_csv_column_given_twice_is_refused(two, actor_of, core_protocol):
    text = f"trial_id,setting,start,end,start\n{two[0].trial_id},inpatient_ward,2026-02-01,,2026-03-01\n"
    parsed = parse_csv(actor_of(Role.RESEARCHER), core_protocol, text, filename="x.csv")
    assert parsed.problems == ["header: column(s) start given more than once"] and parsed.drafts == []


def _encounter(rid, subject, setting, start, end=None, status="finished", admission=None):
    codings = [{"system": SETTING_SYSTEM, "code": setting}]
    if admission:
        codings.append({"system": ADMISSION_SYSTEM, "code": admission})
    resource = {
        "resourceType": "Encounter",
        "id": rid,
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "type": [{"coding": codings[:1]}, *([{"coding": codings[1:]}] if admission else [])],
        "subject": {"identifier": subject},
        "period": {"start": start, **({"end": end} if end else {})},
    }
    return {"resource": resource}


def _bundle(*entries):
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": list(entries)})


def test_a_valid_fhir_bundle_creates_exactly_the_expected_episodes(two, actor_of, staff, core_protocol):
    a, b = two
    nhs = a.identity.nhs_number
    episode_of_care = {
        "resource": {
            "resourceType": "EpisodeOfCare",
            "id": "eoc-7",
            "status": "finished",
            "type": [{"coding": [{"system": SETTING_SYSTEM, "code": "crt_reacceptance"}]}],
            "patient": {"identifier": {"system": TRIAL_ID_SYSTEM, "value": b.trial_id}},
            "period": {"start": "2026-05-01", "end": "2026-05-29"},
        }
    }
    text = _bundle(
        _encounter(
            "enc-1",
            {"system": NHS_NUMBER_SYSTEM, "value": nhs},
            "inpatient_ward",
            "2026-02-03T14:00:00+00:00",
            "2026-02-20T10:00:00+00:00",
            admission="detained",
        ),
        _encounter(
            "enc-2",
            {"system": NHS_NUMBER_SYSTEM, "value": nhs},
            "crisis_house",
            "2026-06-01",
            status="cancelled",
        ),
        episode_of_care,
    )
    parsed = parse_fhir(actor_of(Role.RESEARCHER), core_protocol, text)
    assert parsed.skipped == ["entry 2 (Encounter/enc-2): status cancelled"]
    _import(actor_of(Role.RESEARCHER), core_protocol, parsed, staff[Role.RESEARCHER])
    rows = list(
        AcuteCareEpisode.objects.order_by("pk").values_list(
            "participant__trial_id", "setting", "start", "end", "admission_type", "source", "source_reference"
        )
    )
    assert rows == [
        (
            a.trial_id,
            "inpatient_ward",
            dt.date(2026, 2, 3),
            dt.date(2026, 2, 20),
            "detained",
            "import",
            "Encounter/enc-1",
        ),
        (
            b.trial_id,
            "crt_reacceptance",
            dt.date(2026, 5, 1),
            dt.date(2026, 5, 29),
            "",
            "import",
            "EpisodeOfCare/eoc-7",
        ),
    ]
    # Importing the same resources again is refused as a whole.
    again = parse_fhir(actor_of(Role.RESEARCHER), core_protocol, text)
    with pytest.raises(ValidationError, match="Encounter/enc-1 has already been imported"):
        record_episodes(
            actor_of(Role.RESEARCHER), core_protocol, again.drafts, by=staff[Role.RESEARCHER], today=TODAY
        )
    assert AcuteCareEpisode.objects.count() == 2


def test_fhir_nhs_number_in_other_digits_finds_the_participant(two, actor_of, core_protocol):
    """Fault 6: the NHS number is compared as ASCII digits, whichever digits the sender used."""
    a, _ = two
    arabic_indic = a.identity.nhs_number.translate({ord("0") + d: 0x0660 + d for d in range(10)})
    subject = {"system": NHS_NUMBER_SYSTEM, "value": arabic_indic}
    parsed = parse_fhir(
        actor_of(Role.RESEARCHER),
        core_protocol,
        _bundle(_encounter("e-1", subject, "crisis_house", "2026-03-01")),
    )
    assert parsed.problems == [] and [d.participant for d in parsed.drafts] == [a]


def test_an_invalid_fhir_bundle_changes_nothing_and_names_every_resource(two, actor_of, staff, core_protocol):
    a, _ = two
    nhs = {"system": NHS_NUMBER_SYSTEM, "value": a.identity.nhs_number}
    text = _bundle(
        _encounter("ok-1", nhs, "inpatient_ward", "2026-02-03", "2026-02-10"),
        _encounter("bad-status", nhs, "inpatient_ward", "2026-02-03", status="almost-done"),
        _encounter("no-setting", nhs, "ward_7", "2026-02-03"),
        _encounter(
            "stranger", {"system": NHS_NUMBER_SYSTEM, "value": "9999999999"}, "crisis_house", "2026-03-01"
        ),
        {"resource": {"resourceType": "Observation", "id": "obs-1"}},
        _encounter("no-start", nhs, "crisis_house", None),
    )
    parsed = parse_fhir(actor_of(Role.RESEARCHER), core_protocol, text)
    with pytest.raises(ValidationError) as caught:
        record_episodes(
            actor_of(Role.RESEARCHER),
            core_protocol,
            parsed.drafts,
            by=staff[Role.RESEARCHER],
            today=TODAY,
            known_problems=parsed.problems,
        )
    joined = "\n".join(caught.value.messages)
    assert "entry 2 (Encounter/bad-status): status: 'almost-done' is not a Encounter status" in joined
    assert "entry 3 (Encounter/no-setting): setting: 'ward_7' is not one of" in joined
    assert (
        "entry 4 (Encounter/stranger): subject: no participant with identifier '9999999999' at your sites"
        in joined
    )
    assert "entry 5 (Observation/obs-1): expected an Encounter or EpisodeOfCare resource" in joined
    assert "entry 6 (Encounter/no-start): period.start: the start of the episode is missing" in joined
    assert len(caught.value.messages) == 5 and "ok-1" not in joined
    assert (
        parse_fhir(actor_of(Role.RESEARCHER), core_protocol, "{not json")
        .problems[0]
        .startswith("bundle: not JSON")
    )
    assert parse_fhir(actor_of(Role.RESEARCHER), core_protocol, '{"resourceType": "Patient"}').problems == [
        "bundle: resourceType is not Bundle"
    ]
    assert AcuteCareEpisode.objects.count() == 0


def test_overlaps_from_different_sources_are_reconciled_with_an_audited_decision(
    two, actor_of, staff, core_protocol
):
    a, b = two
    researcher, user = actor_of(Role.RESEARCHER), staff[Role.RESEARCHER]

    def draft(p, start, end, source):
        return EpisodeDraft(p, "inpatient_ward", start, end, "", source, "", "form")

    records, reported, _later, _other = record_episodes(
        researcher,
        core_protocol,
        [
            draft(a, dt.date(2026, 3, 1), dt.date(2026, 3, 20), "clinical_records"),
            draft(a, dt.date(2026, 3, 2), dt.date(2026, 3, 19), "self_report"),
            draft(a, dt.date(2026, 8, 1), dt.date(2026, 8, 5), "self_report"),
            draft(b, dt.date(2026, 3, 1), dt.date(2026, 3, 20), "self_report"),
        ],
        by=user,
        today=TODAY,
    )
    overlaps = overlaps_for(researcher)
    assert [(o.first, o.second) for o in overlaps] == [(records, reported)]
    with pytest.raises(ValidationError):
        reconcile(records, reported, "same", kept=records, by=user, reason=" ")
    decision = reconcile(
        records, reported, "same", kept=records, by=user, reason="same ward stay, dates from records"
    )
    reported.refresh_from_db()
    assert reported.superseded_by == records and decision.kept == records
    assert history_of(reported)[0]["reason"] == "same ward stay, dates from records"
    assert overlaps_for(researcher) == []
    assert EpisodeReconciliation.objects.count() == 1
    # The superseded record no longer feeds the derivation.
    (history,) = list(histories(Participant.objects.filter(pk=a.pk)))
    assert [(e.start, e.end) for e in history.episodes] == [
        (dt.date(2026, 3, 1), dt.date(2026, 3, 20)),
        (dt.date(2026, 8, 1), dt.date(2026, 8, 5)),
    ]


def test_a_death_feeds_censoring_and_opens_an_sae_for_the_chief_investigator(
    two, actor_of, staff, core_protocol
):
    a, _ = two
    researcher = actor_of(Role.RESEARCHER)
    for impossible, why in [
        (a.referred_on - dt.timedelta(days=1), "cannot be before the referral"),
        (dt.date(1, 1, 1), "check the year"),
        (TODAY + dt.timedelta(days=1), "cannot be in the future"),
    ]:
        with pytest.raises(ValidationError, match=why):
            record_death(
                researcher, a, died_on=impossible, cause="suicide", by=staff[Role.RESEARCHER], today=TODAY
            )
    assert not SeriousAdverseEvent.objects.filter(participant=a).exists()
    died_on = a.allocation.randomised_on + dt.timedelta(days=100)
    record_death(researcher, a, died_on=died_on, cause="suicide", by=staff[Role.RESEARCHER], today=TODAY)
    with pytest.raises(ValidationError, match="already recorded"):
        record_death(researcher, a, died_on=died_on, cause="suicide", by=staff[Role.RESEARCHER], today=TODAY)
    (history,) = histories(Participant.objects.filter(pk=a.pk))
    rules = Rules(365, frozenset(core_protocol.setting_codes), frozenset({"inpatient_ward", "crisis_house"}))
    outcome = derive(history, rules)
    assert (outcome.died_1y, outcome.days_to_readmission, outcome.readmitted_1y) == (1, 100, 0)
    sae = SeriousAdverseEvent.objects.get(participant=a)
    assert (sae.category, sae.seriousness, sae.signed_off_on) == ("death", "death", None)
    chief = actor_of(Role.CHIEF_INVESTIGATOR)
    with pytest.raises(PermissionDenied):
        sign_off_sae(researcher, core_protocol, sae, {}, by=staff[Role.RESEARCHER], on=TODAY, reason="ok")
    sign_off_sae(
        chief,
        core_protocol,
        sae,
        {"relatedness": "unlikely"},
        by=staff[Role.CHIEF_INVESTIGATOR],
        on=TODAY,
        reason="reviewed",
    )
    sae.refresh_from_db()
    assert (sae.relatedness, sae.signed_off_on, sae.signed_off_by) == (
        "unlikely",
        TODAY,
        staff[Role.CHIEF_INVESTIGATOR],
    )
    with pytest.raises(ValidationError, match="already been signed off"):
        sign_off_sae(
            chief, core_protocol, sae, {}, by=staff[Role.CHIEF_INVESTIGATOR], on=TODAY, reason="again"
        )


def test_safety_listing_is_pooled_for_masked_roles_and_by_arm_for_the_manager(
    two, actor_of, staff, core_protocol
):
    a, b = two
    for p in (a, b):
        record_death(
            actor_of(Role.RESEARCHER),
            p,
            died_on=TODAY,
            cause="natural",
            by=staff[Role.RESEARCHER],
            today=TODAY,
        )
    for role in (Role.RESEARCHER, Role.CHIEF_INVESTIGATOR):
        listing = safety_listing(
            actor_of(role), SafetyFilters(), review_days=7, today=TODAY, arm_codes=core_protocol.arm_codes
        )
        assert (len(listing.events), listing.arms, listing.by_arm) == (2, None, None)
    manager = safety_listing(
        actor_of(Role.TRIAL_MANAGER),
        SafetyFilters(),
        review_days=7,
        today=TODAY,
        arm_codes=core_protocol.arm_codes,
    )
    arms = sorted([a.allocation.arm, b.allocation.arm])
    assert sorted(manager.arms.values()) == arms and manager.by_arm == dict(Counter(arms))


def test_safety_page_shows_no_arm_to_masked_roles(client, two, actor_of, staff, core_protocol):
    a, b = two
    for p in (a, b):
        record_death(
            actor_of(Role.RESEARCHER),
            p,
            died_on=TODAY,
            cause="natural",
            by=staff[Role.RESEARCHER],
            today=TODAY,
        )
    names = [arm.name for arm in core_protocol.arms] + core_protocol.arm_codes
    for role in (Role.RESEARCHER, Role.CHIEF_INVESTIGATOR):
        client.force_login(staff[role])
        page = client.get("/outcomes/safety/").content.decode()
        assert "pooled across the trial" in page
        assert not any(name in page for name in names), role
    client.force_login(staff[Role.TRIAL_MANAGER])
    page = client.get("/outcomes/safety/").content.decode()
    assert any(arm.name in page for arm in core_protocol.arms)


def test_reconcile_page_refuses_damaged_episode_ids_then_records_the_decision(
    client, two, actor_of, staff, core_protocol
):
    """The pattern of fault 4: ids sent back by the page were turned into numbers unchecked."""
    a, _ = two
    user = staff[Role.RESEARCHER]
    first, second = record_episodes(
        actor_of(Role.RESEARCHER),
        core_protocol,
        [
            EpisodeDraft(a, "inpatient_ward", dt.date(2026, 3, 1), None, "", "clinical_records", "", "form"),
            EpisodeDraft(a, "inpatient_ward", dt.date(2026, 3, 2), None, "", "self_report", "", "form"),
        ],
        by=user,
        today=TODAY,
    )
    client.force_login(user)
    url = reverse("outcomes:reconcile")
    form = {"pair": [first.pk, second.pk], "decision": "same", "keep": first.pk, "reason": "same stay"}
    for damaged in [{"pair": [first.pk, "²"]}, {"pair": [first.pk, "9" * 5000]}, {"keep": str(2**64)}]:
        page = client.post(url, {**form, **damaged})
        assert page.status_code == 200
        assert "does not match a record on this page" in page.content.decode()
    assert client.post(url, {**form, "pair": [first.pk, 2**63 - 1]}).status_code == 404
    assert not EpisodeReconciliation.objects.exists()
    assert client.post(url, form).status_code == 302
    second.refresh_from_db()
    assert second.superseded_by == first


HEADER = "trial_id,setting,start,end,admission_type\n"


def _upload(client, name, content):
    client_file = SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)
    return client.post(reverse("outcomes:import"), {"file": client_file})


def _nested(depth):
    inner = {"url": "https://example.org/x", "valueString": "x"}
    for _ in range(depth):
        inner = {"url": "https://example.org/x", "extension": [inner]}
    return inner


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "huge-cell.csv",
            HEADER + "X" * 200_000 + ",crisis_house,2026-03-01,,\n",
            "row 1: not readable as CSV (field larger than field limit (131072))",
        ),
        (
            "entry.json",
            '{"resourceType": "Bundle", "type": "collection", "entry": 5}',
            "bundle: entry: must be a list",
        ),
        (
            "entry.json",
            '{"resourceType": "Bundle", "entry": {"resource": {}}}',
            "bundle: entry: must be a list",
        ),
        (
            "deep.json",
            '{"resourceType": "Bundle", "entry": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "bundle: nested more than 40 levels deep",
        ),
        (
            "deep.json",
            json.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [{"resource": {"resourceType": "Encounter", "extension": [_nested(400)]}}],
                }
            ),
            "bundle: nested more than 40 levels deep",
        ),
        (
            "long-number.json",
            '{"resourceType": "Bundle", "total": ' + "1" * 5000 + "}",
            "bundle: not readable JSON",
        ),
        ("binary.csv", b"\xff\xfe\x00garbage", "file: not UTF-8 text"),
    ],
)
def test_episode_import_refuses_a_hostile_file_with_a_message_and_changes_nothing(
    client, two, staff, name, content, message
):
    """Fault 2: each of these files ended in a server error."""
    client.force_login(staff[Role.RESEARCHER])
    page = _upload(client, name, content)
    assert page.status_code == 200
    assert message in page.content.decode().replace("&#39;", "'")
    assert not AcuteCareEpisode.objects.exists()


def test_episode_import_refuses_fhir_partial_dates_naming_the_entry(client, two, staff):
    """Fault 2: a year or a month alone is valid FHIR, but an episode needs its day."""
    a, _ = two
    nhs = {"system": NHS_NUMBER_SYSTEM, "value": a.identity.nhs_number}
    text = _bundle(
        _encounter("year", nhs, "inpatient_ward", "2026"),
        _encounter("month", nhs, "inpatient_ward", "2026-03-01", "2026-11"),
        _encounter("whole", nhs, "inpatient_ward", "2026-03-01", "2026-03-09"),
    )
    client.force_login(staff[Role.RESEARCHER])
    page = _upload(client, "bundle.json", text).content.decode().replace("&#39;", "'")
    assert "entry 1 (Encounter/year): period.start: '2026' is not a full date" in page
    assert "entry 2 (Encounter/month): period.end: '2026-11' is not a full date" in page
    assert "Nothing was imported: 2 problems" in page
    assert not AcuteCareEpisode.objects.exists()


def test_episode_import_has_a_size_limit(client, two, staff):
    client.force_login(staff[Role.RESEARCHER])
    page = _upload(client, "big.csv", HEADER + "x" * MAX_FILE_BYTES)
    assert page.status_code == 200
    assert "File must be 10 MB or smaller (this one is 10.0 MB): split it" in page.content.decode()
    assert not AcuteCareEpisode.objects.exists()


def test_episode_import_lists_every_problem_at_once_in_row_order_and_at_most_a_hundred(client, two, staff):
    """Fault 2: a bad setting showed only once the row's other problems were fixed, and out of order."""
    a, b = two
    client.force_login(staff[Role.RESEARCHER])
    text = (
        HEADER
        + f"{a.trial_id},hospital,2026-03-09,2026-03-01,\n"  # a draft: checked by record_episodes
        + f"{b.trial_id},ward_7,01/03/2026,,\n"  # no draft: checked while parsing
        + f"{a.trial_id},crisis_house,2026-05-01,,\n"
    )
    page = _upload(client, "records.csv", text).content.decode().replace("&#39;", "'")
    problems = [
        "row 1: setting: 'hospital' is not one of",
        "row 1: end: the end date is before the start date",
        "row 2: start: '01/03/2026' is not a date",
        "row 2: setting: 'ward_7' is not one of",
    ]
    assert all(p in page for p in problems) and "row 3" not in page
    assert [page.index(p) for p in problems] == sorted(page.index(p) for p in problems)

    rows = "".join(f"NOPE-{n},crisis_house,2026-03-01,,\n" for n in range(1, 835))
    page = _upload(client, "records.csv", HEADER + rows).content.decode().replace("&#39;", "'")
    assert "Nothing was imported: 834 problems" in page
    assert "row 100: trial_id: no participant 'NOPE-100'" in page and "row 101:" not in page
    assert "and 734 more problems" in page
    assert not AcuteCareEpisode.objects.exists()


def test_impossible_episode_dates_are_refused_in_an_import_naming_the_row(
    two, actor_of, staff, core_protocol
):
    a, b = two  # born 1 Jun 1985, randomised 5 Jan 2026
    text = (
        "trial_id,setting,start,end,admission_type\n"
        f"{a.trial_id},inpatient_ward,2026-03-01,2026-03-20,\n"
        f"{a.trial_id},inpatient_ward,1899-03-01,,\n"
        f"{b.trial_id},crisis_house,1970-04-02,,\n"
        f"{b.trial_id},crisis_house,2026-01-02,2026-01-09,\n"
        f"{b.trial_id},crisis_house,2026-10-02,2026-12-09,\n"
    )
    parsed = parse_csv(actor_of(Role.RESEARCHER), core_protocol, text, filename="records.csv")
    with pytest.raises(ValidationError) as caught:
        record_episodes(
            actor_of(Role.RESEARCHER), core_protocol, parsed.drafts, by=staff[Role.RESEARCHER], today=TODAY
        )
    assert caught.value.messages == [
        "row 2: start: the start date cannot be before 1900: check the year",
        "row 2: start: 1 Mar 1899 is before randomisation (5 Jan 2026); "
        "such an episode is recorded only on the participant's page, confirmed, with the reason",
        "row 3: start: the start date cannot be before the date of birth (1 Jun 1985)",
        "row 3: start: 2 Apr 1970 is before randomisation (5 Jan 2026); "
        "such an episode is recorded only on the participant's page, confirmed, with the reason",
        "row 4: start: 2 Jan 2026 is before randomisation (5 Jan 2026); "
        "such an episode is recorded only on the participant's page, confirmed, with the reason",
        "row 5: end: the end date cannot be in the future",
    ]
    assert not AcuteCareEpisode.objects.exists()


def test_a_fhir_episode_before_randomisation_is_refused_naming_the_resource(
    two, actor_of, staff, core_protocol
):
    a, _ = two
    subject = {"system": TRIAL_ID_SYSTEM, "value": a.trial_id}
    parsed = parse_fhir(
        actor_of(Role.RESEARCHER),
        core_protocol,
        _bundle(_encounter("enc-1", subject, "inpatient_ward", "2025-12-20", "2026-01-10")),
    )
    with pytest.raises(ValidationError) as caught:
        record_episodes(
            actor_of(Role.RESEARCHER), core_protocol, parsed.drafts, by=staff[Role.RESEARCHER], today=TODAY
        )
    assert caught.value.messages == [
        "entry 1 (Encounter/enc-1): start: 20 Dec 2025 is before randomisation (5 Jan 2026); "
        "such an episode is recorded only on the participant's page, confirmed, with the reason"
    ]
    assert not AcuteCareEpisode.objects.exists()


def test_an_episode_before_randomisation_is_recorded_only_confirmed_with_its_reason(client, two, staff):
    a, _ = two
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("outcomes:episodes", kwargs={"trial_id": a.trial_id})
    episode = {
        "setting": "inpatient_ward",
        "start": "2025-12-20",
        "end": "2026-01-10",
        "source": "clinical_records",
    }
    page = client.post(url, episode).content.decode()
    assert "20 Dec 2025 is before randomisation (5 Jan 2026)" in page
    assert "I confirm this episode started before randomisation" in page
    page = client.post(url, {**episode, "before_randomisation_confirmed": "on"}).content.decode()
    assert "Give the reason an episode before randomisation is recorded" in page
    page = client.post(url, {**episode, "before_randomisation_reason": "still on the ward"}).content.decode()
    assert "Confirm the episode started before randomisation, or clear the reason" in page
    page = client.post(url, {**episode, "start": "1900-01-01", "before_randomisation_confirmed": "on",
                             "before_randomisation_reason": "typed"}).content.decode()  # fmt: skip
    assert "the start date cannot be before the date of birth (1 Jun 1985)" in page
    assert not AcuteCareEpisode.objects.exists()
    confirmed = {
        **episode,
        "before_randomisation_confirmed": "on",
        "before_randomisation_reason": " still on the ward ",
    }
    assert client.post(url, confirmed).status_code == 302
    recorded = AcuteCareEpisode.objects.get()
    assert (
        recorded.start == dt.date(2025, 12, 20)
        and recorded.before_randomisation_reason == "still on the ward"
    )
    assert recorded.history.get().before_randomisation_reason == "still on the ward"


NONE = "\N{EN DASH}"  # what a cell with nothing to say shows


def _listed_episodes(page) -> list[tuple[str, ...]]:
    """The episode list's rows as (trial ID, site, setting, start, end, days, admission, source)."""
    assert page.status_code == 200
    rows = re.findall(r'<tr class="nhsuk-table__row">(.*?)</tr>', page.content.decode(), flags=re.S)
    cells = [re.findall(r'<td class="nhsuk-table__cell[^"]*">(.*?)</td>', row, flags=re.S) for row in rows]
    return [tuple(re.sub(r"<[^>]+>", "", c) for c in row) for row in cells if len(row) == 8]


def test_the_episode_list_shows_current_episodes_sorted_and_filtered_by_listed_values_only(
    client, allocation_lists, make_participant, actor_of, staff, core_protocol
):
    """Superseded records are left out; days are nights in a setting with a bed, days attended in one
    without. Only the columns offered order the list and only listed values filter it (sites within the
    actor's own); anything else is ignored, and a NUL character, which PostgreSQL refuses, is a bad request."""
    cam, bri = make_participant("CAM", Status.RANDOMISED), make_participant("BRI", Status.RANDOMISED)
    manager = staff[Role.TRIAL_MANAGER]
    ward, duplicate, _day_unit, _house = record_episodes(
        actor_of(Role.TRIAL_MANAGER),
        core_protocol,
        [
            EpisodeDraft(cam, "inpatient_ward", dt.date(2026, 3, 1), dt.date(2026, 3, 20), "detained",
                         "clinical_records", "", "form"),
            EpisodeDraft(cam, "inpatient_ward", dt.date(2026, 3, 2), dt.date(2026, 3, 19), "",
                         "self_report", "", "form"),
            EpisodeDraft(cam, "acute_day_unit", dt.date(2026, 8, 1), dt.date(2026, 8, 5), "",
                         "self_report", "", "form"),
            EpisodeDraft(bri, "crisis_house", dt.date(2026, 6, 1), None, "informal",
                         "clinical_records", "", "form"),
        ],
        by=manager,
        today=TODAY,
    )  # fmt: skip
    reconcile(ward, duplicate, "same", kept=ward, by=manager, reason="same ward stay")
    day_unit = (cam.trial_id, "CAM", "Acute day unit", "1 Aug 2026", "5 Aug 2026", "5", NONE, "Self-report")
    house = (
        bri.trial_id,
        "BRI",
        "Crisis house",
        "1 Jun 2026",
        "ongoing",
        NONE,
        "Informal",
        "Clinical records",
    )
    ward_row = (cam.trial_id, "CAM", "Psychiatric inpatient ward", "1 Mar 2026", "20 Mar 2026", "19",
                "Detained under the Mental Health Act", "Clinical records")  # fmt: skip
    url = reverse("outcomes:episode_list")

    def listed(**asked: str) -> list[tuple[str, ...]]:
        return _listed_episodes(client.get(url, asked))

    client.force_login(manager)
    assert listed() == [day_unit, house, ward_row]  # latest start first
    assert listed(sort="start") == [ward_row, house, day_unit]
    assert listed(sort="end", setting="inpatient_ward") == [ward_row]
    # an episode still going on ends latest, on every database
    assert listed(sort="-end") == [house, day_unit, ward_row]
    assert listed(sort="end") == [ward_row, day_unit, house]
    by_trial_id = [ward_row, day_unit, house] if cam.trial_id < bri.trial_id else [house, ward_row, day_unit]
    assert listed(sort="trial_id") == by_trial_id  # and in the order recorded within a participant
    assert listed(site="BRI") == [house]
    assert listed(setting="acute_day_unit") == [day_unit]
    assert listed(source="clinical_records", sort="start") == [ward_row, house]
    assert listed(site="CAM", source="import") == []
    for hostile in ["ZZZ", "inpatient_ward' --", "setting__in", "x" * 5000]:
        assert listed(site=hostile, setting=hostile, source=hostile) == [day_unit, house, ward_row]
    for hostile in ["arm", "participant__allocation__arm", "-" * 300, "days"]:
        assert listed(sort=hostile) == [day_unit, house, ward_row]
    assert client.get(url, {"source": "nul\x00byte"}).status_code == 400
    assert client.get(url, {"sort": "\x00"}).status_code == 400

    client.force_login(staff[Role.RESEARCHER])  # at CAM only: BRI is neither listed nor a filter of theirs
    assert listed() == [day_unit, ward_row]
    assert listed(site="BRI") == [day_unit, ward_row]


def test_the_safety_listing_counted_in_the_database_and_read_a_page_at_a_time_is_the_whole_list(
    demo, core_protocol, monkeypatch
):
    """Its counts by kind and by arm are those of every event one by one, and its pages, read one after
    another, are every event in the listing's order."""
    import aftercrisis.pagination
    from aftercrisis.accounts.models import User
    from aftercrisis.accounts.selectors import actor_for
    from aftercrisis.outcomes.models import SeriousAdverseEvent
    from aftercrisis.randomisation.models import Allocation

    monkeypatch.setattr(aftercrisis.pagination, "PAGE_SIZE", 4)
    events = list(SeriousAdverseEvent.objects.order_by("onset", "pk"))
    arm_of = dict(Allocation.objects.values_list("participant_id", "arm"))
    assert len(events) > 8
    for username, role in (("manager", Role.TRIAL_MANAGER), ("chief", Role.CHIEF_INVESTIGATOR)):
        actor = actor_for(User.objects.get(username=username), role)
        pages, number = [], 1
        while True:
            listing = safety_listing(
                actor,
                SafetyFilters(),
                review_days=7,
                today=TODAY,
                arm_codes=core_protocol.arm_codes,
                page=number,
            )
            pages += listing.events
            if not listing.page.has_next():
                break
            number += 1
        assert [e.pk for e in pages] == [e.pk for e in events] and listing.total == len(events)
        assert listing.by_category == dict(Counter(e.category for e in events))
        if role is Role.TRIAL_MANAGER:
            assert listing.by_arm == dict(Counter(arm_of.get(e.participant_id, "") for e in events))
        else:
            assert listing.by_arm is None and listing.arms is None
