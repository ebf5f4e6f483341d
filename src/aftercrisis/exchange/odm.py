"""CDISC ODM 1.3.2: the study's design and its clinical data, each value with the audit record of the change
that gave it, for one member of staff in one role.

What a role gets is what every form's data gives it (reporting.form_export, which decides it once): a role
that may not know the arms gets no arm, no allocation and no form or row that reveals one; identity only
where that export gives it. The file is a snapshot: one current value per item, whose AuditRecord says who
last set it, at which site, when and why, from the audit history. Forms that belong to no participant (the
anonymous screen failures, the reconciliation of duplicate episodes) are not subject data in ODM and stay in
every form's export.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst

from aftercrisis import __version__
from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.policy import Actor
from aftercrisis.followup.instruments import Instrument
from aftercrisis.followup.services import instrument_for_entry
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.selectors import arms_for
from aftercrisis.reporting.form_export import Form, columns, forms_for, kind, rows_for

NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ET.register_namespace("", NS)

# ODM's data type for each type of column that every form's data names.
DATA_TYPES = {
    "integer (id)": "integer",
    "true/false": "boolean",
    "integer": "integer",
    "number": "float",
    "date and time (UTC)": "datetime",
    "date": "date",
    "JSON text": "text",
    "text": "text",
}
# Forms filled in once, on entering the trial: their data belong to the first visit.
AT_ENTRY = frozenset({"participants", "identity", "screening", "consent", "allocations"})
# Records not tied to a visit: acute-care episodes, SAEs, peer support, withdrawals, deaths.
COMMON_EVENT = "SE.TRIAL"
# A row's id is its ItemGroupRepeatKey and its participant the SubjectKey: neither is an item.
KEYS = frozenset({"id", "participant"})
SYSTEM_USER = "USR.SYSTEM"  # a change with no member of staff: the participant through a link, or the system


@dataclass(frozen=True)
class Item:
    oid: str
    name: str
    data_type: str
    question: str
    key: str  # where the value is in a row: a column, or "answers.<item code>"
    length: int | None = None
    codes: tuple[tuple[str, str], ...] = ()  # coded value and its meaning
    bounds: tuple[int, int] | None = None

    @property
    def code_list(self) -> str | None:
        return f"CL.{self.oid.removeprefix('IT.')}" if self.codes else None


@dataclass(frozen=True)
class Group:
    oid: str
    name: str
    repeating: bool
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Layout:
    """How one form is laid out: its FormDef, item groups, and the study events it belongs to."""

    form: Form
    oid: str
    description: str
    groups: tuple[Group, ...]
    events: tuple[str, ...]
    model: type[models.Model]

    def group_of(self, row: dict[str, Any]) -> Group:
        """The item group a row fills: a questionnaire's own when its answers fit the instrument's items."""
        if len(self.groups) > 1:
            wanted = f"{self.groups[0].oid}.{str(row['instrument']).upper()}"
            for group in self.groups[1:]:
                codes = {i.key.removeprefix("answers.") for i in group.items}
                if group.oid == wanted and set(row["answers"] or {}) <= codes:
                    return group
        return self.groups[0]


@dataclass(frozen=True)
class Change:
    user_oid: str
    site_id: int
    at: dt.datetime
    reason: str


def write_odm(actor: Actor, protocol: Protocol, out: IO[bytes]) -> None:
    """Write the ODM file for the actor; PermissionDenied (before anything is written) for a role that may
    not export every form's data."""
    forms = forms_for(actor)
    unblinded = any(f.reveals_arm for f in forms)  # as forms_for decided, without asking again
    layouts = _layouts(protocol, [f for f in forms if _of_participants(f)])
    study = f"ST.{protocol.trial.short_name}"
    version = f"MDV.{protocol.trial.short_name}.{protocol.trial.protocol_version}"
    now = timezone.now()
    root = ET.Element(
        f"{{{NS}}}ODM",
        {
            "FileType": "Snapshot",
            "FileOID": f"F.{protocol.trial.short_name}.{now:%Y%m%dT%H%M%S}.{actor.role.value}",
            "CreationDateTime": now.isoformat(timespec="seconds"),
            "ODMVersion": "1.3.2",
            "Originator": f"aftercrisis, for the {actor.role.label.lower()}",
            "SourceSystem": "aftercrisis",
            "SourceSystemVersion": __version__,
        },
    )
    subjects, data, users = _clinical_data(actor, layouts, unblinded=unblinded)
    _study(root, protocol, study, version, layouts)
    _admin_data(root, actor, protocol, study, version, users)
    _clinical(root, protocol, study, version, layouts, subjects, data)
    ET.indent(root)
    ET.ElementTree(root).write(out, encoding="UTF-8", xml_declaration=True)


def _of_participants(form: Form) -> bool:
    model = apps.get_model(form.model)
    return form.name == "participants" or any(f.name == "participant" for f in model._meta.concrete_fields)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attributes: str | None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}", {k: v for k, v in attributes.items() if v is not None})
    element.text = text
    return element


def _text(parent: ET.Element, tag: str, text: str) -> None:
    _el(_el(parent, tag), "TranslatedText", text, **{XML_LANG: "en"})


# -- The study's design ------------------------------------------------------------------------------


def _events(protocol: Protocol) -> list[tuple[str, str, str]]:
    """OID, name and type of each study event: one per visit, then one common to the whole trial."""
    visits = [(f"SE.{v.code.upper()}", v.name, "Scheduled") for v in protocol.visits]
    return [*visits, (COMMON_EVENT, "During the trial (not tied to a visit)", "Common")]


def _layouts(protocol: Protocol, forms: Iterable[Form]) -> list[Layout]:
    first_visit, *_ = (oid for oid, _, _ in _events(protocol))
    visits = tuple(oid for oid, _, type_ in _events(protocol) if type_ == "Scheduled")
    layouts = []
    for form in forms:
        model = apps.get_model(form.model)
        fields = [f for f in columns(model) if f.name not in KEYS]
        base = form.name.upper()
        items = tuple(_field_item(base, f) for f in fields)
        if form.model == "randomisation.Allocation":
            arms = tuple((a.code, a.name) for a in protocol.arms)
            items += (Item(f"IT.{base}.ARM", "arm", "text", "Arm allocated", key="arm", codes=arms),)
        one_each = form.name == "participants" or isinstance(
            model._meta.get_field("participant"), models.OneToOneField
        )
        groups = [Group(f"IG.{base}", form.name, not one_each, items)]
        if form.model == "followup.QuestionnaireResponse":
            shared = tuple(i for i in items if i.name != "answers")
            for code in (i.code for i in protocol.instruments):
                try:
                    instrument = instrument_for_entry(code)
                except KeyError:  # an instrument the project does not ship: its answers stay as JSON text
                    continue
                groups.append(
                    Group(
                        f"IG.{base}.{code.upper()}",
                        f"{form.name}: {instrument.name}",
                        True,
                        shared + _questions(instrument),
                    )
                )
        names = {f.name for f in fields}
        if "visit" in names:  # a record of a visit the protocol does not have (any longer): the common event
            events: tuple[str, ...] = (*visits, COMMON_EVENT)
        elif form.name in AT_ENTRY:
            events = (first_visit,)
        else:
            events = (COMMON_EVENT,)
        description = capfirst(str(model._meta.verbose_name_plural))
        layouts.append(Layout(form, f"F.{base}", description, tuple(groups), events, model))
    return layouts


def _field_item(base: str, field: models.Field[Any, Any]) -> Item:
    return Item(
        oid=f"IT.{base}.{field.attname.upper()}",
        name=field.attname,
        data_type=DATA_TYPES[kind(field)],
        question=capfirst(str(field.verbose_name)),
        key=field.attname,
        length=field.max_length if isinstance(field, models.CharField) else None,
        codes=tuple((str(v), str(label)) for v, label in field.flatchoices) if field.choices else (),
    )


def _questions(instrument: Instrument) -> tuple[Item, ...]:
    """One integer item per question: coded where the instrument names its answers, else a range."""
    return tuple(
        Item(
            oid=f"IT.{instrument.code.upper()}.{q.code.upper()}",
            name=q.code,
            data_type="integer",
            question=q.label,
            key=f"answers.{q.code}",
            codes=tuple((str(v), text) for v, text in q.choices()) if q.options or q.anchors else (),
            bounds=None if q.options or q.anchors else (q.minimum, q.maximum),
        )
        for q in instrument.items
    )


def _study(root: ET.Element, protocol: Protocol, study: str, version: str, layouts: list[Layout]) -> None:
    trial = protocol.trial
    element = _el(root, "Study", OID=study)
    names = _el(element, "GlobalVariables")
    _el(names, "StudyName", trial.short_name)
    _el(names, "StudyDescription", trial.title)
    _el(names, "ProtocolName", f"{trial.short_name} protocol {trial.protocol_version} ({trial.registration})")
    meta = _el(
        element, "MetaDataVersion", OID=version, Name=f"{trial.short_name} protocol {trial.protocol_version}"
    )
    events = _events(protocol)
    refs = _el(meta, "Protocol")
    for n, (oid, _, _) in enumerate(events, start=1):
        _el(refs, "StudyEventRef", StudyEventOID=oid, OrderNumber=str(n), Mandatory="No")
    for oid, name, type_ in events:
        event = _el(meta, "StudyEventDef", OID=oid, Name=name, Repeating="No", Type=type_)
        for n, layout in enumerate((x for x in layouts if oid in x.events), start=1):
            _el(event, "FormRef", FormOID=layout.oid, OrderNumber=str(n), Mandatory="No")
    for layout in layouts:
        form = _el(meta, "FormDef", OID=layout.oid, Name=layout.form.name, Repeating="No")
        _text(form, "Description", layout.description)
        for n, group in enumerate(layout.groups, start=1):
            _el(form, "ItemGroupRef", ItemGroupOID=group.oid, OrderNumber=str(n), Mandatory="No")
    items: dict[str, Item] = {}
    for layout in layouts:
        for group in layout.groups:
            definition = _el(
                meta, "ItemGroupDef", OID=group.oid, Name=group.name, Repeating=_yes(group.repeating)
            )
            for n, item in enumerate(group.items, start=1):
                _el(definition, "ItemRef", ItemOID=item.oid, OrderNumber=str(n), Mandatory="No")
                items.setdefault(item.oid, item)
    for item in items.values():
        length = str(item.length) if item.length else None
        definition = _el(
            meta, "ItemDef", OID=item.oid, Name=item.name, DataType=item.data_type, Length=length
        )
        _text(definition, "Question", item.question)
        if item.bounds:
            for comparator, bound in zip(("GE", "LE"), item.bounds, strict=True):
                check = _el(definition, "RangeCheck", Comparator=comparator, SoftHard="Hard")
                _el(check, "CheckValue", str(bound))
        if item.code_list:
            _el(definition, "CodeListRef", CodeListOID=item.code_list)
    for item in items.values():
        if item.code_list:
            codes = _el(meta, "CodeList", OID=item.code_list, Name=item.name, DataType=item.data_type)
            for value, meaning in item.codes:
                _text(_el(codes, "CodeListItem", CodedValue=value), "Decode", meaning)


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


# -- Who and where ---------------------------------------------------------------------------------------


def _admin_data(
    root: ET.Element, actor: Actor, protocol: Protocol, study: str, version: str, user_oids: set[str]
) -> None:
    admin = _el(root, "AdminData", StudyOID=study)
    ids = sorted(int(oid.removeprefix("USR.")) for oid in user_oids if oid != SYSTEM_USER)
    for user in User.objects.filter(pk__in=ids).order_by("pk"):
        element = _el(admin, "User", OID=f"USR.{user.pk}")
        _el(element, "LoginName", user.username)
        _el(element, "DisplayName", user.display_name)
        if user.first_name:
            _el(element, "FirstName", user.first_name)
        if user.last_name:
            _el(element, "LastName", user.last_name)
    if SYSTEM_USER in user_oids:
        element = _el(admin, "User", OID=SYSTEM_USER)
        _el(element, "DisplayName", "system (a participant through a secure link, or aftercrisis itself)")
    sites = Site.objects.order_by("code")
    if actor.site_ids is not None:
        sites = sites.filter(pk__in=actor.site_ids)
    for site in sites:
        location = _el(admin, "Location", OID=f"LOC.{site.code}", Name=site.name, LocationType="Site")
        effective = protocol.trial.recruitment_start.isoformat()
        _el(
            location,
            "MetaDataVersionRef",
            StudyOID=study,
            MetaDataVersionOID=version,
            EffectiveDate=effective,
        )


# -- The clinical data -----------------------------------------------------------------------------------

# An item group filled by one row: the group, its repeat key, and each item's value with its last change.
Filled = tuple[Group, int | None, list[tuple[Item, str, Change | None]]]


def _clinical_data(
    actor: Actor, layouts: list[Layout], *, unblinded: bool
) -> tuple[dict[int, tuple[str, int]], dict[int, dict[str, dict[str, list[Filled]]]], set[str]]:
    """Participant id -> (trial ID, site id); participant id -> event -> form -> filled item groups; the
    users the audit records name."""
    participants = next(x for x in layouts if x.form.name == "participants")
    subjects = {
        pk: (trial_id, site_id)
        for pk, trial_id, site_id in rows_for(actor, participants.form, unblinded=unblinded).values_list(
            "pk", "trial_id", "site_id"
        )
    }
    data: dict[int, dict[str, dict[str, list[Filled]]]] = defaultdict(lambda: defaultdict(dict))
    users: set[str] = set()
    for layout in layouts:
        names = [f.attname for f in columns(layout.model)]
        rows = rows_for(actor, layout.form, unblinded=unblinded)
        # Every version of those rows: a version's own key is history_id, the row's is id.
        history = getattr(layout.model, "history").filter(id__in=rows.values("pk"))  # noqa: B009
        history = history.order_by("id", "history_date", "history_id")
        versions = defaultdict(list)
        for version in history.values(*names, "history_user_id", "history_date", "history_change_reason"):
            versions[version["id"]].append(version)
        current = list(rows.order_by("pk").values(*names))
        if layout.form.model == "randomisation.Allocation":
            arms = arms_for(actor, [r["participant_id"] for r in current])
            for row in current:
                row["arm"] = arms.get(row["participant_id"])
        for row in current:
            subject = row["id"] if layout.form.name == "participants" else row["participant_id"]
            if subject not in subjects:
                continue
            site_id = subjects[subject][1]
            group = layout.group_of(row)
            audit = _last_changes(group.items, versions[row["id"]], site_id)
            filled = [(i, v, audit.get(i.oid)) for i in group.items if (v := _value(i, row)) is not None]
            users |= {c.user_oid for _, _, c in filled if c}
            # The event of the row's visit where the form has it, else the form's last (or only) event.
            event = f"SE.{str(row.get('visit')).upper()}"
            event = event if event in layout.events else layout.events[-1]
            key = row["id"] if group.repeating else None
            data[subject][event].setdefault(layout.oid, []).append((group, key, filled))
    return subjects, data, users


def _get(item: Item, row: dict[str, Any]) -> Any:
    if item.key.startswith("answers."):
        return (row.get("answers") or {}).get(item.key.removeprefix("answers."))
    return row.get(item.key)


def _value(item: Item, row: dict[str, Any]) -> str | None:
    """The item's value as ODM writes it; None when there is none (ODM leaves the item out)."""
    value = _get(item, row)
    if value is None or value == "":
        return None
    if item.data_type == "boolean":
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _last_changes(items: Iterable[Item], versions: list[dict[str, Any]], site_id: int) -> dict[str, Change]:
    """Item OID -> the version of the row that gave the item its current value. The first version gives
    every item, so a value not read from the history (the arm) is dated from when the row was made."""
    found: dict[str, Change] = {}
    before: dict[str, Any] | None = None
    for version in versions:  # oldest first
        user = version["history_user_id"]
        change = Change(
            f"USR.{user}" if user else SYSTEM_USER,
            site_id,
            version["history_date"],
            version["history_change_reason"] or "",
        )
        for item in items:
            if before is None or _get(item, before) != _get(item, version):
                found[item.oid] = change
        before = version
    return found


def _clinical(
    root: ET.Element,
    protocol: Protocol,
    study: str,
    version: str,
    layouts: list[Layout],
    subjects: dict[int, tuple[str, int]],
    data: dict[int, dict[str, dict[str, list[Filled]]]],
) -> None:
    clinical = _el(root, "ClinicalData", StudyOID=study, MetaDataVersionOID=version)
    sites = dict(Site.objects.values_list("pk", "code"))
    events = [oid for oid, _, _ in _events(protocol)]
    for pk, (trial_id, site_id) in sorted(subjects.items(), key=lambda s: s[1][0]):
        subject = _el(clinical, "SubjectData", SubjectKey=trial_id)
        _el(subject, "SiteRef", LocationOID=f"LOC.{sites[site_id]}")
        for event in (e for e in events if e in data[pk]):
            event_data = _el(subject, "StudyEventData", StudyEventOID=event)
            for layout in (x for x in layouts if x.oid in data[pk][event]):
                form = _el(event_data, "FormData", FormOID=layout.oid)
                for group, key, filled in data[pk][event][layout.oid]:
                    repeat = None if key is None else str(key)
                    group_data = _el(form, "ItemGroupData", ItemGroupOID=group.oid, ItemGroupRepeatKey=repeat)
                    for item, value, change in filled:
                        item_data = _el(group_data, "ItemData", ItemOID=item.oid, Value=value)
                        if change is not None:
                            _audit(item_data, change, sites)


def _audit(parent: ET.Element, change: Change, sites: dict[int, str]) -> None:
    record = _el(parent, "AuditRecord")
    _el(record, "UserRef", UserOID=change.user_oid)
    _el(record, "LocationRef", LocationOID=f"LOC.{sites[change.site_id]}")
    _el(record, "DateTimeStamp", change.at.isoformat())
    if change.reason:
        _el(record, "ReasonForChange", change.reason)
