"""The CDISC ODM 1.3.2 export: valid against the standard's schema, every value defined by the study's
metadata and as stored, each with the audit record of its last change, and only what the role may see."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from functools import cache

import pytest
import xmlschema
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from odmlib.schema_manager import get_schema_path

from aftercrisis.accounts.models import RoleAssignment, User
from aftercrisis.accounts.policy import CAPABILITIES, Capability
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.audit import record_creation
from aftercrisis.cli import main
from aftercrisis.exchange.odm import write_odm
from aftercrisis.followup.models import QuestionnaireResponse
from aftercrisis.followup.services import log_contact
from aftercrisis.lock.services import lock_database
from aftercrisis.outcomes.models import AcuteCareEpisode, SeriousAdverseEvent
from aftercrisis.outcomes.services import report_sae
from aftercrisis.participants.models import Identity, Participant, Status, Withdrawal, WithdrawalLevel
from aftercrisis.participants.services import update_research_data
from aftercrisis.randomisation.models import Allocation
from aftercrisis.reporting.form_export import FORMS

pytestmark = pytest.mark.django_db

NS = {"o": "http://www.cdisc.org/ns/odm/v1.3"}


@cache
def odm_schema() -> xmlschema.XMLSchema:
    """The ODM 1.3.2 schema as CDISC publishes it, shipped in odmlib."""
    return xmlschema.XMLSchema(get_schema_path("odm", "1.3.2"))


def export(actor, protocol) -> tuple[bytes, ET.Element]:
    out = io.BytesIO()
    write_odm(actor, protocol, out)
    data = out.getvalue()
    odm_schema().validate(io.BytesIO(data))
    return data, ET.fromstring(data)


def item_values(root: ET.Element) -> dict[tuple[str, str, str | None], str]:
    """(trial ID, item OID, item group repeat key) -> value, checking on the way that each level of the
    clinical data is defined by the metadata level above it, from the protocol's study event refs down."""
    meta = root.find("o:Study/o:MetaDataVersion", NS)

    def refs(element: ET.Element, tag: str, attribute: str) -> set[str | None]:
        return {r.get(attribute) for r in element.findall(f"o:{tag}", NS)}

    events = refs(meta.find("o:Protocol", NS), "StudyEventRef", "StudyEventOID")
    forms = {e.get("OID"): refs(e, "FormRef", "FormOID") for e in meta.findall("o:StudyEventDef", NS)}
    groups = {f.get("OID"): refs(f, "ItemGroupRef", "ItemGroupOID") for f in meta.findall("o:FormDef", NS)}
    items = {g.get("OID"): refs(g, "ItemRef", "ItemOID") for g in meta.findall("o:ItemGroupDef", NS)}
    defined = {i.get("OID") for i in meta.findall("o:ItemDef", NS)}
    values = {}
    for subject in root.findall("o:ClinicalData/o:SubjectData", NS):
        for event in subject.findall("o:StudyEventData", NS):
            assert event.get("StudyEventOID") in events
            for form in event.findall("o:FormData", NS):
                assert form.get("FormOID") in forms[event.get("StudyEventOID")]
                for group in form.findall("o:ItemGroupData", NS):
                    assert group.get("ItemGroupOID") in groups[form.get("FormOID")]
                    for item in group.findall("o:ItemData", NS):
                        assert item.get("ItemOID") in items[group.get("ItemGroupOID")]
                        assert item.get("ItemOID") in defined
                        key = (
                            subject.get("SubjectKey"),
                            item.get("ItemOID"),
                            group.get("ItemGroupRepeatKey"),
                        )
                        assert key not in values  # one current value per item
                        values[key] = item.get("Value")
    return values


def coded_values_are_in_their_code_lists(root: ET.Element) -> None:
    meta = root.find("o:Study/o:MetaDataVersion", NS)
    codes = {c.get("OID"): refs_of(c) for c in meta.findall("o:CodeList", NS)}
    lists = {
        i.get("OID"): codes[ref.get("CodeListOID")]
        for i in meta.findall("o:ItemDef", NS)
        if (ref := i.find("o:CodeListRef", NS)) is not None
    }
    for item in root.iter(f"{{{NS['o']}}}ItemData"):
        if item.get("ItemOID") in lists:
            assert item.get("Value") in lists[item.get("ItemOID")], item.get("ItemOID")


def refs_of(code_list: ET.Element) -> set[str]:
    return {c.get("CodedValue") for c in code_list.findall("o:CodeListItem", NS)}


def audit_refs_resolve(root: ET.Element) -> None:
    users = {u.get("OID") for u in root.findall("o:AdminData/o:User", NS)}
    locations = {loc.get("OID") for loc in root.findall("o:AdminData/o:Location", NS)}
    records = list(root.iter(f"{{{NS['o']}}}AuditRecord"))
    assert records
    for record in records:
        assert record.find("o:UserRef", NS).get("UserOID") in users
        assert record.find("o:LocationRef", NS).get("LocationOID") in locations
        assert dt.datetime.fromisoformat(record.find("o:DateTimeStamp", NS).text).tzinfo is not None


def demo_actor(username, role):
    return actor_for(User.objects.get(username=username), role)


def test_the_managers_file_is_valid_odm_with_every_value_defined_and_as_stored(demo, core_protocol):
    data, root = export(demo_actor("manager", Role.TRIAL_MANAGER), core_protocol)
    assert root.tag == "{http://www.cdisc.org/ns/odm/v1.3}ODM"
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Snapshot"
    assert root.get("SourceSystem") == "aftercrisis" and root.get("SourceSystemVersion")
    assert root.get("FileOID") and dt.datetime.fromisoformat(root.get("CreationDateTime")).tzinfo is not None
    names = root.find("o:Study/o:GlobalVariables", NS)
    assert names.find("o:StudyName", NS).text == core_protocol.trial.short_name
    assert core_protocol.trial.registration in names.find("o:ProtocolName", NS).text
    values = item_values(root)
    coded_values_are_in_their_code_lists(root)
    audit_refs_resolve(root)

    subjects = {s.get("SubjectKey") for s in root.findall("o:ClinicalData/o:SubjectData", NS)}
    assert subjects == set(Participant.objects.values_list("trial_id", flat=True))
    for p in Participant.objects.exclude(age_at_entry=None)[:20]:
        assert values[(p.trial_id, "IT.PARTICIPANTS.AGE_AT_ENTRY", None)] == str(p.age_at_entry)
        assert values[(p.trial_id, "IT.PARTICIPANTS.SEX", None)] == p.sex
    for a in Allocation.objects.select_related("participant"):
        assert values[(a.participant.trial_id, "IT.ALLOCATIONS.ARM", None)] == a.arm
    for identity in Identity.objects.select_related("participant")[:20]:
        assert identity.nhs_number.encode() in data
    episodes = AcuteCareEpisode.objects.select_related("participant")
    assert episodes.exists()
    for e in episodes:
        trial_id, row = e.participant.trial_id, str(e.pk)
        assert values[(trial_id, "IT.ACUTE_CARE_EPISODES.SETTING", row)] == e.setting
        assert values[(trial_id, "IT.ACUTE_CARE_EPISODES.START", row)] == e.start.isoformat()
        end = values.get((trial_id, "IT.ACUTE_CARE_EPISODES.END", row))
        assert end == (e.end.isoformat() if e.end else None)
    responses = QuestionnaireResponse.objects.select_related("participant")
    assert responses.filter(instrument="eq5d3l").exists()
    for r in responses:
        trial_id, row = r.participant.trial_id, str(r.pk)
        for code, answer in r.answers.items():
            item = f"IT.{r.instrument.upper()}.{code.upper()}"
            assert values.get((trial_id, item, row)) == (None if answer is None else str(answer))
        if r.total is not None:
            assert float(values[(trial_id, "IT.QUESTIONNAIRES.TOTAL", row)]) == r.total


def test_a_blinded_statistician_gets_no_arm_no_arm_revealing_form_and_no_identity(demo, core_protocol):
    supported = Participant.objects.filter(caseload_assignment__isnull=False).first()
    withdrawal = record_creation(
        Withdrawal(
            participant=supported,
            level=WithdrawalLevel.PEER_SUPPORT,
            on=supported.referred_on,
            reason="no longer wants sessions",
            recorded_by=User.objects.get(username="manager"),
        ),
        by=User.objects.get(username="manager"),
        reason="withdrawal recorded",
    )
    data, root = export(demo_actor("statistician", Role.STATISTICIAN), core_protocol)
    values = item_values(root)
    hidden = {f.name.upper() for f in FORMS if f.reveals_arm or f.identity}
    defined = {e.get("OID") for e in root.iter() if e.get("OID")}
    assert not [oid for oid in defined if oid.split(".")[1] in hidden or oid.endswith(".ARM")]
    assert not {a.code for a in core_protocol.arms} & set(values.values())
    # The withdrawal from peer support is in the manager's file, not in the statistician's.
    level = (supported.trial_id, "IT.WITHDRAWALS.LEVEL", str(withdrawal.pk))
    assert level not in values
    assert (
        item_values(export(demo_actor("manager", Role.TRIAL_MANAGER), core_protocol)[1])[level]
        == "peer_support"
    )
    text = data.decode()
    for number in Identity.objects.values_list("nhs_number", flat=True):
        assert number not in text
    # Nobody whose work reveals an arm is named as having changed the data the statistician gets.
    named = {
        u.find("o:LoginName", NS).text
        for u in root.findall("o:AdminData/o:User", NS)
        if u.find("o:LoginName", NS) is not None
    }
    workers = set(
        RoleAssignment.objects.filter(role=Role.PEER_SUPPORT_WORKER).values_list("user__username", flat=True)
    )
    assert named and not named & workers


def test_an_audit_record_names_who_changed_a_value_and_why(
    allocation_lists, make_participant, staff, actor_of, core_protocol
):
    participant = make_participant("CAM", Status.RANDOMISED)
    manager, researcher = staff[Role.TRIAL_MANAGER], staff[Role.RESEARCHER]
    reason = 'Checked with the <GP> & the "notes"'
    update_research_data(participant, {"prior_admissions": 3}, by=manager, reason=reason)
    sae = report_sae(
        actor_of(Role.RESEARCHER),
        core_protocol,
        SeriousAdverseEvent(
            participant=participant,
            category="self_harm",
            onset=dt.date(2026, 2, 1),
            description='Seen in A&E <overnight>, "stable" on discharge',
            seriousness="hospitalisation",
            relatedness="not_related",
            expectedness="expected",
            reported_on=dt.date(2026, 2, 2),
        ),
        by=researcher,
    )
    # A contact attempt for a visit the protocol does not have still has a defined place: the common event.
    attempt = log_contact(
        None, participant, "m99", channel="phone", outcome="no_answer", on=dt.date(2026, 3, 1), by=researcher
    )
    _, root = export(actor_of(Role.TRIAL_MANAGER), core_protocol)
    values = item_values(root)
    audit_refs_resolve(root)
    trial_id = participant.trial_id
    (common,) = [e for e in root.iter(f"{{{NS['o']}}}StudyEventData") if e.get("StudyEventOID") == "SE.TRIAL"]
    assert common.find(f"o:FormData/o:ItemGroupData[@ItemGroupRepeatKey='{attempt.pk}']", NS) is not None
    assert values[(trial_id, "IT.PARTICIPANTS.PRIOR_ADMISSIONS", None)] == "3"
    assert values[(trial_id, "IT.SERIOUS_ADVERSE_EVENTS.DESCRIPTION", str(sae.pk))] == sae.description
    assert values[(trial_id, "IT.SERIOUS_ADVERSE_EVENTS.ONSET", str(sae.pk))] == "2026-02-01"

    def audit(item_oid):
        (item,) = [i for i in root.iter(f"{{{NS['o']}}}ItemData") if i.get("ItemOID") == item_oid]
        record = item.find("o:AuditRecord", NS)
        reason = record.find("o:ReasonForChange", NS)
        return record.find("o:UserRef", NS).get("UserOID"), None if reason is None else reason.text

    assert audit("IT.PARTICIPANTS.PRIOR_ADMISSIONS") == (f"USR.{manager.pk}", reason)
    # Values not changed since entry keep the record of their entry.
    assert audit("IT.PARTICIPANTS.SEX") == (f"USR.{staff[Role.REFERRER].pk}", "referred")
    assert audit("IT.SERIOUS_ADVERSE_EVENTS.DESCRIPTION") == (
        f"USR.{researcher.pk}",
        "serious adverse event reported",
    )
    (user,) = [u for u in root.findall("o:AdminData/o:User", NS) if u.get("OID") == f"USR.{manager.pk}"]
    assert user.find("o:LoginName", NS).text == manager.username
    locations = {loc.get("OID") for loc in root.findall("o:AdminData/o:Location", NS)}
    assert locations == {f"LOC.{s.code}" for s in core_protocol.sites}  # the manager's: every site
    assert {r.get("LocationOID") for r in root.iter(f"{{{NS['o']}}}LocationRef")} == {"LOC.CAM"}


def test_the_statistician_gets_the_arms_once_the_database_is_locked_in_queries_that_do_not_grow(
    allocation_lists, make_participant, staff, actor_of, core_protocol
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            write_odm(actor_of(Role.STATISTICIAN), core_protocol, io.BytesIO())
        return len(captured.captured_queries)

    first = make_participant("CAM", Status.RANDOMISED)
    one = queries()
    for site in ("CAM", "ISL", "HAR"):
        make_participant(site, Status.RANDOMISED)
    assert queries() == one

    lock_database(
        actor_of(Role.TRIAL_MANAGER), by=staff[Role.TRIAL_MANAGER], reason="final analysis", reviewed=True
    )
    values = item_values(export(actor_of(Role.STATISTICIAN), core_protocol)[1])
    assert values[(first.trial_id, "IT.ALLOCATIONS.ARM", None)] == first.allocation.arm


@pytest.mark.parametrize("role", [r for r in Role if Capability.FULL_EXPORT not in CAPABILITIES[r]])
def test_a_role_that_may_not_export_every_form_is_refused_before_anything_is_written(
    role, actor_of, core_protocol
):
    out = io.BytesIO()
    with pytest.raises(PermissionDenied):
        write_odm(actor_of(role), core_protocol, out)
    assert out.getvalue() == b""


def test_the_command_writes_the_file_and_refuses_a_role_or_name_that_may_not_have_it(
    allocation_lists, make_participant, staff, tmp_path, capsys
):
    participant = make_participant("CAM", Status.RANDOMISED)
    out = tmp_path / "core.xml"
    assert main(["export-odm", "--as", "statistician", "--out", str(out)]) == 0
    odm_schema().validate(str(out))
    assert participant.trial_id in out.read_text()
    assert "CDISC ODM 1.3.2" in capsys.readouterr().err

    for name, message in [("researcher", "may not export"), ("nobody", "no active member of staff")]:
        refused = tmp_path / f"{name}.xml"
        with pytest.raises(SystemExit) as stopped:
            main(["export-odm", "--as", name, "--out", str(refused)])
        assert message in str(stopped.value)
        assert not refused.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["core.xml"]  # no temporary file left behind
