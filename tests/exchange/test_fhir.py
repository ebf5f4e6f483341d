"""The FHIR bundle: valid (read back by the library's R4B models), every reference resolved within it, a
resource for each record in the role's scope, and only what the role may see: no arm for a masked role,
nothing from the tables that reveal one, no Patient and no NHS number for a role without identity."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.api.tokens import issue_token
from aftercrisis.exchange.fhir import trial_bundle
from aftercrisis.followup.models import QuestionnaireResponse
from aftercrisis.lock.models import DatabaseLockEvent, LockAction
from aftercrisis.outcomes.imports import NHS_NUMBER_SYSTEM, parse_fhir
from aftercrisis.outcomes.models import AcuteCareEpisode
from aftercrisis.participants.models import Identity, Participant, Status, WithdrawalLevel
from aftercrisis.participants.withdrawals import withdraw
from aftercrisis.randomisation.models import Allocation

pytestmark = pytest.mark.django_db

KINDS = {"ResearchStudy", "ResearchSubject", "Patient", "Encounter", "Questionnaire", "QuestionnaireResponse"}


def _actor(username: str, role: Role):
    return actor_for(User.objects.get(username=username), role)


def _values(value: Any, key: str) -> list[Any]:
    """Every value under `key`, at any depth of a JSON document."""
    if isinstance(value, dict):
        here = [value[key]] if key in value else []
        return here + [f for v in value.values() for f in _values(v, key)]
    if isinstance(value, list):
        return [f for v in value for f in _values(v, key)]
    return []


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def export(actor, protocol) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """The bundle as JSON text and its resources by type, having read it back through the library's
    models and resolved every reference and every questionnaire's canonical URL within it."""
    text = trial_bundle(actor, protocol).model_dump_json()
    read = Bundle.model_validate_json(text)
    assert read.type == "collection"
    data = json.loads(text)
    urls = [e["fullUrl"] for e in data["entry"]]
    assert len(set(urls)) == len(urls)
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in data["entry"])
    assert set(_values(data, "reference")) <= set(urls)
    resources: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in data["entry"]:
        resources[entry["resource"]["resourceType"]].append(entry["resource"])
    assert set(resources) <= KINDS
    canonical = {q["url"]: q["version"] for q in resources["Questionnaire"]}
    for response in resources["QuestionnaireResponse"]:
        url, version = response["questionnaire"].split("|")
        assert canonical[url] == version
        links = {i["linkId"] for q in resources["Questionnaire"] if q["url"] == url for i in q["item"]}
        assert {i["linkId"] for i in response.get("item", [])} <= links
    return text, resources


def _no_arm(text: str, resources: dict[str, list[dict[str, Any]]], protocol) -> None:
    """No arm anywhere but the study's own list of arms, which the protocol makes public."""
    assert "assignedArm" not in text and "actualArm" not in text
    arms = set(protocol.arm_codes)
    for kind, found in resources.items():
        if kind != "ResearchStudy":
            assert not arms & set(_strings(found)), kind


def test_every_record_of_the_trial_for_the_manager_with_arms_and_identity(
    demo, core_protocol, django_assert_max_num_queries
):
    manager = _actor("manager", Role.TRIAL_MANAGER)
    with django_assert_max_num_queries(6):  # whatever the trial's size
        trial_bundle(manager, core_protocol)
    _, resources = export(manager, core_protocol)
    [study] = resources["ResearchStudy"]
    assert study["identifier"] == [{"system": "https://www.isrctn.com", "value": "ISRCTN01027104"}]
    assert [a["name"] for a in study["arm"]] == core_protocol.arm_codes
    subjects = {s["identifier"][0]["value"]: s for s in resources["ResearchSubject"]}
    assert len(subjects) == Participant.objects.count()
    arms = dict(Allocation.objects.values_list("participant__trial_id", "arm"))
    assert {t: s.get("assignedArm") for t, s in subjects.items() if "assignedArm" in s} == arms
    statuses = Counter(s["status"] for s in subjects.values())
    assert statuses["on-study"] == Participant.objects.filter(status=Status.RANDOMISED).count() > 0
    assert "on-study-intervention" not in statuses

    patients = resources["Patient"]
    assert len(patients) == Identity.objects.count()
    numbers = {i["value"] for p in patients for i in p["identifier"] if i["system"] == NHS_NUMBER_SYSTEM}
    assert numbers == set(Identity.objects.values_list("nhs_number", flat=True))
    assert {p["meta"]["profile"][0] for p in patients} == {
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    }

    current = AcuteCareEpisode.objects.filter(superseded_by__isnull=True)
    assert len(resources["Encounter"]) == current.count() > 0
    settings = {s.name for s in core_protocol.outcomes.acute_care_settings}
    assert {e["type"][0]["text"] for e in resources["Encounter"]} <= settings
    assert len(resources["Questionnaire"]) == len(core_protocol.instruments)
    assert len(resources["QuestionnaireResponse"]) == QuestionnaireResponse.objects.count() > 0


def test_masked_roles_get_no_arm_and_a_role_without_identity_no_patient(demo, core_protocol):
    statistician = _actor("statistician", Role.STATISTICIAN)
    text, resources = export(statistician, core_protocol)
    _no_arm(text, resources, core_protocol)
    assert len(resources["ResearchSubject"]) == Participant.objects.count()
    assert "Patient" not in resources
    for number in Identity.objects.values_list("nhs_number", flat=True):
        assert number not in text
    # A subject is then the trial ID alone.
    assert {tuple(s["individual"]) for s in resources["ResearchSubject"]} == {("type", "identifier")}

    researcher = _actor("researcher1", Role.RESEARCHER)
    text, resources = export(researcher, core_protocol)
    _no_arm(text, resources, core_protocol)
    at_sites = Participant.objects.filter(site_id__in=researcher.site_ids)
    assert 0 < len(resources["ResearchSubject"]) == at_sites.count() < Participant.objects.count()
    # One person's identity on the pages, to contact them; none in bulk, as in every other export.
    assert "Patient" not in resources
    for number in Identity.objects.filter(participant__in=at_sites).values_list("nhs_number", flat=True):
        assert number not in text
    assert (
        len(resources["Encounter"])
        == AcuteCareEpisode.objects.filter(participant__in=at_sites, superseded_by__isnull=True).count()
    )

    manager = User.objects.get(username="manager")
    DatabaseLockEvent.objects.create(action=LockAction.LOCKED, by=manager, reason="final analysis")
    _, resources = export(statistician, core_protocol)
    randomised = Allocation.objects.count()
    assert sum("assignedArm" in s for s in resources["ResearchSubject"]) == randomised


def test_a_peer_support_withdrawal_leaves_nothing_a_masked_role_can_see(
    supported, staff, actor_of, core_protocol
):
    participant = supported()
    manager = staff[Role.TRIAL_MANAGER]
    withdraw(
        actor_of(Role.TRIAL_MANAGER),
        participant,
        core_protocol,
        level=WithdrawalLevel.PEER_SUPPORT,
        on=dt.date(2026, 2, 1),
        reason="prefers the workbook alone",
        by=manager,
    )
    text, resources = export(actor_of(Role.RESEARCHER), core_protocol)
    _no_arm(text, resources, core_protocol)
    [subject] = [
        s for s in resources["ResearchSubject"] if s["identifier"][0]["value"] == participant.trial_id
    ]
    assert subject["status"] == "on-study"
    assert "prefers the workbook alone" not in text


def test_encounters_are_coded_as_the_episode_import_reads_them(demo, core_protocol):
    manager = _actor("manager", Role.TRIAL_MANAGER)
    _, resources = export(manager, core_protocol)
    encounters = {"resourceType": "Bundle", "type": "collection"}
    encounters["entry"] = [{"resource": e} for e in resources["Encounter"]]
    parsed = parse_fhir(manager, core_protocol, json.dumps(encounters))
    assert parsed.problems == []
    read = sorted((d.participant.pk, d.setting, d.start, d.end, d.admission_type) for d in parsed.drafts)
    current = AcuteCareEpisode.objects.filter(superseded_by__isnull=True)
    assert read == sorted(current.values_list("participant_id", "setting", "start", "end", "admission_type"))


@pytest.mark.parametrize(
    "role",
    [Role.PEER_SUPPORT_WORKER, Role.REFERRER, Role.CHIEF_INVESTIGATOR, Role.RANDOMISATION_STATISTICIAN],
)
def test_roles_that_neither_open_records_nor_export_every_form_are_refused(actor_of, core_protocol, role):
    with pytest.raises(PermissionDenied):
        trial_bundle(actor_of(role), core_protocol)


def test_the_command_writes_the_bundle_and_refuses_a_name_or_role_that_may_not_have_it(
    make_participant, staff, tmp_path, capsys
):
    from aftercrisis.cli import main

    participant = make_participant("CAM", Status.CONSENTED)
    out = tmp_path / "core.json"
    assert main(["export-fhir", "--as", "trial_manager", "--out", str(out)]) == 0
    bundle = Bundle.model_validate_json(out.read_text())
    assert participant.trial_id in out.read_text() and len(bundle.entry) > 2
    assert f"{len(bundle.entry)} resources" in capsys.readouterr().err
    assert out.stat().st_mode & 0o077 == 0  # it holds identity: for its owner only

    for name, message in [
        ("nobody", "no active member of staff is called 'nobody'"),
        ("peer_support_worker", "may not export"),
    ]:
        refused = tmp_path / f"{name}.json"
        with pytest.raises(SystemExit) as stopped:
            main(["export-fhir", "--as", name, "--out", str(refused)])
        assert message in str(stopped.value)
        assert not refused.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["core.json"]


def test_the_route_answers_fhir_json_to_the_roles_that_may_export(client, staff, supported, core_protocol):
    participant = supported()
    today = timezone.localdate()

    def get(role):
        issued = issue_token(
            staff[role], name="fhir", role=role, expires_on=today + dt.timedelta(days=1), today=today
        )
        return client.get("/api/v1/fhir/Bundle", HTTP_AUTHORIZATION=f"Bearer {issued.secret}")

    answer = get(Role.STATISTICIAN)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/fhir+json"
    text = answer.content.decode()
    assert participant.trial_id in text and "assignedArm" not in text
    assert Bundle.model_validate_json(text).entry
    assert '"assignedArm":"intervention"' in get(Role.TRIAL_MANAGER).content.decode()
    refused = get(Role.PEER_SUPPORT_WORKER)
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
