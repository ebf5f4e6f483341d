"""Acute-care episodes from a CSV file or a FHIR R4 bundle of Encounter / EpisodeOfCare resources.

Parsing collects every problem, each named by row (row 1 is the first row after the header) or by
resource, and `record_episodes` writes all drafts or none. `import_file` does both for an
uploaded file and lists a refusal's problems in the file's order.

FHIR conventions: the subject (Encounter) or patient (EpisodeOfCare) is a logical reference by
identifier, either the NHS number or the trial ID; the setting is a `type` coding in the
SETTING_SYSTEM with a protocol setting code; a detention under the Mental Health Act is a `type`
coding in ADMISSION_SYSTEM ("informal" or "detained"); the dates are the `period`. Resources that
are cancelled, planned or entered in error are not episodes and are skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from pydantic import ValidationError as PydanticError

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor
from aftercrisis.outcomes.models import AcuteCareEpisode, AdmissionType, EpisodeSource
from aftercrisis.outcomes.services import EpisodeDraft, quoted, record_episodes, setting_problem
from aftercrisis.participants.models import Identity, Participant, normalise_nhs_number
from aftercrisis.participants.selectors import participants_for
from aftercrisis.protocol import Protocol

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
TRIAL_ID_SYSTEM = "https://aftercrisis.org/fhir/trial-id"
SETTING_SYSTEM = "https://aftercrisis.org/fhir/acute-care-setting"
ADMISSION_SYSTEM = "https://aftercrisis.org/fhir/admission-type"
CSV_COLUMNS = ("trial_id", "setting", "start", "end", "admission_type")
# A whole trial's records fit many times over; a larger file is split. Nginx accepts 20 MB.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_EPISODES = 10_000
# A FHIR Encounter nests about ten levels; far deeper JSON is an attack on the parser, not an episode.
MAX_JSON_DEPTH = 40
NOT_EPISODES = {"cancelled", "planned", "entered-in-error", "waitlist"}
STATUSES = {
    "Encounter": {
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "EpisodeOfCare": {"planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"},
}


@dataclass
class Parsed:
    drafts: list[EpisodeDraft] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _date(value: str, where: str, name: str, problems: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        problems.append(f"{where}: {name}: {quoted(value)} is not a date (YYYY-MM-DD)")
        return None


def _admission(value: str, where: str, problems: list[str]) -> str:
    value = value.strip()
    if value and value not in AdmissionType.values:
        problems.append(
            f"{where}: admission_type: {quoted(value)} is not one of {', '.join(AdmissionType.values)}"
        )
    return value


TOO_MANY = f"the file has more than {MAX_EPISODES:,} episodes: split it and import each part"


def import_file(
    actor: Actor, protocol: Protocol, name: str, content: bytes, *, by: User, today: dt.date
) -> tuple[list[AcuteCareEpisode], Parsed]:
    """An uploaded CSV file or FHIR bundle, all written or none; a refusal lists its problems in file order."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(["file: not UTF-8 text"]) from None
    is_json = name.lower().endswith(".json") or text.lstrip().startswith("{")
    parsed = parse_fhir(actor, protocol, text) if is_json else parse_csv(actor, protocol, text, filename=name)
    try:
        written = record_episodes(
            actor, protocol, parsed.drafts, by=by, today=today, known_problems=parsed.problems
        )
    except ValidationError as exc:
        raise ValidationError(sorted(exc.messages, key=_in_file_order)) from None
    return written, parsed


def _in_file_order(problem: str) -> int:
    """'row 12: ...' and 'entry 12 (...): ...' sort by their number; the file's own problems come first."""
    head, _, rest = problem.partition(" ")
    number = rest.split(" ", 1)[0].rstrip(":")
    return int(number) if head in ("row", "entry") and number.isascii() and number.isdigit() else 0


def parse_csv(actor: Actor, protocol: Protocol, text: str, *, filename: str) -> Parsed:
    parsed = Parsed()
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        parsed.problems.append(f"header: not readable as CSV ({exc})")
        return parsed
    missing = [c for c in CSV_COLUMNS[:3] if c not in header]
    if missing:
        parsed.problems.append(f"header: missing column(s) {', '.join(missing)}")
    # A column given twice is ambiguous: the reader would silently keep the last one.
    twice = sorted(c for c, n in Counter(header).items() if n > 1)
    if twice:
        parsed.problems.append(f"header: column(s) {', '.join(twice)} given more than once")
    if parsed.problems:
        return parsed
    rows: list[dict[str, Any]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_EPISODES:
                parsed.problems.append(TOO_MANY)
                return parsed
    except csv.Error as exc:  # a cell over the csv module's limit, say
        parsed.problems.append(f"row {len(rows) + 1}: not readable as CSV ({exc})")
        return parsed
    if not rows:
        parsed.problems.append("the file has no episodes")
    people = {
        p.trial_id: p for p in participants_for(actor).filter(trial_id__in=[r["trial_id"] for r in rows])
    }
    for n, row in enumerate(rows, start=1):
        where = f"row {n}"
        problems: list[str] = []
        participant = people.get((row.get("trial_id") or "").strip())
        if participant is None:
            problems.append(f"{where}: trial_id: no participant {quoted(row.get('trial_id'))} at your sites")
        setting = (row.get("setting") or "").strip()
        start = _date(row.get("start") or "", where, "start", problems)
        end_text = (row.get("end") or "").strip()
        end = _date(end_text, where, "end", problems) if end_text else None
        admission = _admission(row.get("admission_type") or "", where, problems)
        _not_drafted(protocol, setting, where, problems)
        parsed.problems.extend(problems)
        if participant is not None and start is not None and not problems:
            parsed.drafts.append(
                EpisodeDraft(
                    participant,
                    setting,
                    start,
                    end,
                    admission,
                    EpisodeSource.IMPORT,
                    f"{filename} row {n}",
                    where,
                )
            )
    return parsed


def _identifier(reference: Any) -> tuple[str, str] | None:
    identifier = getattr(reference, "identifier", None) if reference is not None else None
    if identifier is None or not identifier.system or not identifier.value:
        return None
    system, value = str(identifier.system), str(identifier.value)
    return system, normalise_nhs_number(value) if system == NHS_NUMBER_SYSTEM else value


def _codes(concepts: Any, system: str) -> list[str]:
    return [str(c.code) for concept in concepts or [] for c in concept.coding or [] if c.system == system]


def _not_drafted(protocol: Protocol, setting: str, where: str, problems: list[str]) -> None:
    """A row or resource with a problem becomes no draft, so its setting is checked here: the first
    upload reports every problem, not one more after each fix. Drafts are checked by record_episodes."""
    if problems and (problem := setting_problem(protocol, setting, where)):
        problems.append(problem)


def _depth(value: Any) -> int:
    """How deeply JSON nests, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse_fhir(actor: Actor, protocol: Protocol, text: str) -> Parsed:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.encounter import Encounter
    from fhir.resources.R4B.episodeofcare import EpisodeOfCare

    parsed = Parsed()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.problems.append(f"bundle: not JSON ({exc.msg} at line {exc.lineno})")
        return parsed
    except RecursionError:
        parsed.problems.append(f"bundle: nested more than {MAX_JSON_DEPTH} levels deep")
        return parsed
    except ValueError as exc:  # a number too long to read, say
        parsed.problems.append(f"bundle: not readable JSON ({exc})")
        return parsed
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        parsed.problems.append("bundle: resourceType is not Bundle")
        return parsed
    if _depth(raw) > MAX_JSON_DEPTH:
        parsed.problems.append(f"bundle: nested more than {MAX_JSON_DEPTH} levels deep")
        return parsed
    entries = raw.pop("entry", None) or []
    if not isinstance(entries, list):
        parsed.problems.append("bundle: entry: must be a list of entries")
        return parsed
    if len(entries) > MAX_EPISODES:
        parsed.problems.append(TOO_MANY)
        return parsed
    try:
        Bundle.model_validate(raw)
    except PydanticError as exc:
        parsed.problems.append(f"bundle: {_pydantic(exc)}")
    resources: list[tuple[str, Any]] = []
    for n, entry in enumerate(entries, start=1):
        found = entry.get("resource") if isinstance(entry, dict) else None
        resource: dict[str, Any] = found if isinstance(found, dict) else {}
        kind = resource.get("resourceType")
        where = f"entry {n} ({str(kind)[:40]}/{str(resource.get('id', '?'))[:64]})" if kind else f"entry {n}"
        model: Any = {"Encounter": Encounter, "EpisodeOfCare": EpisodeOfCare}.get(str(kind))
        if model is None:
            parsed.problems.append(f"{where}: expected an Encounter or EpisodeOfCare resource")
            continue
        try:
            resources.append((where, model.model_validate(resource)))
        except PydanticError as exc:
            parsed.problems.append(f"{where}: {_pydantic(exc)}")
    _resolve(actor, protocol, resources, parsed)
    parsed.problems.sort(key=_in_file_order)
    return parsed


def _pydantic(exc: PydanticError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def _resolve(actor: Actor, protocol: Protocol, resources: list[tuple[str, Any]], parsed: Parsed) -> None:
    scope = participants_for(actor)
    refs = [
        (where, r, _identifier(getattr(r, "subject", None) or getattr(r, "patient", None)))
        for where, r in resources
    ]
    trial_ids = [v for _, _, ident in refs if ident and ident[0] == TRIAL_ID_SYSTEM for v in [ident[1]]]
    nhs_numbers = [v for _, _, ident in refs if ident and ident[0] == NHS_NUMBER_SYSTEM for v in [ident[1]]]
    by_trial_id = {p.trial_id: p for p in scope.filter(trial_id__in=trial_ids)}
    by_nhs: dict[str, Participant] = {
        i.nhs_number: i.participant
        for i in Identity.objects.filter(nhs_number__in=nhs_numbers, participant__in=scope).select_related(
            "participant"
        )
    }
    for where, resource, ident in refs:
        problems: list[str] = []
        participant = None
        if ident is None:
            problems.append(f"{where}: subject: no identifier (NHS number or trial ID)")
        else:
            participant = (by_trial_id if ident[0] == TRIAL_ID_SYSTEM else by_nhs).get(ident[1])
            if participant is None:
                problems.append(
                    f"{where}: subject: no participant with identifier {quoted(ident[1])} at your sites"
                )
        kind = resource.get_resource_type()
        if resource.status not in STATUSES[kind]:
            problems.append(f"{where}: status: '{resource.status}' is not a {kind} status")
        elif resource.status in NOT_EPISODES:
            parsed.skipped.append(f"{where}: status {resource.status}")
            continue
        settings = _codes(resource.type, SETTING_SYSTEM)
        if len(settings) != 1:
            problems.append(f"{where}: type: expected one acute-care setting coding ({SETTING_SYSTEM})")
        admissions = _codes(resource.type, ADMISSION_SYSTEM)
        admission = _admission(admissions[0] if admissions else "", where, problems)
        period = resource.period
        start = _as_date(period.start, where, "period.start", problems) if period is not None else None
        if period is None or period.start is None:
            problems.append(f"{where}: period.start: the start of the episode is missing")
        end = _as_date(period.end, where, "period.end", problems) if period is not None else None
        if len(settings) == 1:
            _not_drafted(protocol, settings[0], where, problems)
        parsed.problems.extend(problems)
        if problems or participant is None or start is None:
            continue
        parsed.drafts.append(
            EpisodeDraft(
                participant,
                settings[0],
                start,
                end,
                admission,
                EpisodeSource.IMPORT,
                f"{resource.get_resource_type()}/{resource.id}" if resource.id else "",
                where,
            )
        )


def _as_date(value: Any, where: str, name: str, problems: list[str]) -> dt.date | None:
    """FHIR allows a year or a month alone; an episode needs the day."""
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    problems.append(f"{where}: {name}: {quoted(value)} is not a full date: give the day (YYYY-MM-DD)")
    return None
