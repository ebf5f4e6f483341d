"""Writes to a participant's workbook, and links for the participant to open it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from aftercrisis.accounts.models import User
from aftercrisis.audit import audited_changes, record_creations
from aftercrisis.participants.links import IssuedLink, issue_link
from aftercrisis.participants.models import LinkPurpose, Participant, Status
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.selectors import offered_digital_workbook
from aftercrisis.workbook.content import EntryKey, load_workbook, parse_value
from aftercrisis.workbook.models import WorkbookEntry


def issue_workbook_link(participant: Participant, protocol: Protocol, *, by: User) -> IssuedLink:
    if participant.status == Status.WITHDRAWN:
        raise ValidationError(f"{participant.trial_id} has withdrawn: no workbook link can be sent")
    if not offered_digital_workbook(participant, protocol):
        raise ValidationError(f"{participant.trial_id} is not offered the workbook online by the protocol")
    return issue_link(participant, LinkPurpose.WORKBOOK, by=by)


def save_answers(
    participant: Participant,
    answers: Mapping[EntryKey, str],
    *,
    by: User | None,
    reason: str,
    edition: str | None = None,
) -> int:
    """Store answers as one row each; a changed answer is an audited update, a cleared one is kept blank.

    Every answer is checked first, so bad input changes nothing. Returns the number of rows written.
    """
    return save_workbooks([(participant, answers)], by=by, reason=reason, edition=edition)


@transaction.atomic
def save_workbooks(
    workbooks: Sequence[tuple[Participant, Mapping[EntryKey, str]]],
    *,
    by: User | None,
    reason: str,
    edition: str | None = None,
) -> int:
    """save_answers for each participant's answers, all or none, with one query of each kind for the
    lot; a refusal names the participant when there is more than one."""
    workbook = load_workbook(edition) if edition else load_workbook()
    checked: list[tuple[Participant, dict[EntryKey, str]]] = []
    for participant, answers in workbooks:
        parsed: dict[EntryKey, str] = {}
        errors: dict[str, list[str]] = {}
        for key, raw in answers.items():
            try:
                prompt = workbook.field(key.section, key.group, key.field)
                if key.group and key.item >= workbook.section(key.section).group(key.group).rows:
                    raise KeyError(key)
                parsed[key] = parse_value(prompt, raw)
            except KeyError:
                errors.setdefault("__all__", []).append(
                    f"The workbook has no place for {key.section}.{key.field}"
                )
            except ValueError as exc:
                errors.setdefault(_field_name(key), []).append(str(exc))
        if errors:
            if len(workbooks) > 1:
                errors = {f: [f"{participant.trial_id}: {m}" for m in ms] for f, ms in errors.items()}
            raise ValidationError(errors)
        checked.append((participant, parsed))
    existing = {
        (e.participant_id, EntryKey(e.section, e.group, e.item, e.field)): e
        for e in WorkbookEntry.objects.filter(
            participant__in=[p for p, _ in checked], edition=workbook.version
        )
    }
    new = [
        WorkbookEntry(
            participant=participant,
            edition=workbook.version,
            section=key.section,
            group=key.group,
            item=key.item,
            field=key.field,
            value=value,
        )
        for participant, parsed in checked
        for key, value in parsed.items()
        if (participant.pk, key) not in existing and value
    ]
    changed = [
        (entry, [{"value": value}])
        for participant, parsed in checked
        for key, value in parsed.items()
        if (entry := existing.get((participant.pk, key))) is not None and entry.value != value
    ]
    audited_changes(changed, by=by, reason=reason)
    return len(record_creations(new, by=by, reason=reason)) + len(changed)


def _field_name(key: EntryKey) -> str:
    """The form field that carries an answer (see workbook.forms)."""
    return f"{key.group}-{key.item}-{key.field}" if key.group else key.field
