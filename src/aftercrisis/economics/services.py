"""Writes of resource use: all of a form's counts or none, audited, a reason for any change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.audit import audited_update, record_creations
from aftercrisis.economics.models import MAX_UNITS, ResourceUse
from aftercrisis.economics.selectors import typed_resources
from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import Allocation

FIRST_ENTRY = "counted from clinical records"


def record_resource_use(
    actor: Actor,
    protocol: Protocol,
    participant: Participant,
    units: Mapping[tuple[str, str], int | None],
    *,
    by: User,
    reason: str = "",
) -> list[ResourceUse]:
    """Write the units of each (period, resource), None meaning not known. A count entered before
    and now different needs `reason`; an unchanged one writes nothing."""
    return record_resource_uses(actor, protocol, [(participant, units)], by=by, reason=reason)[0]


def record_resource_uses(
    actor: Actor,
    protocol: Protocol,
    counted: Sequence[tuple[Participant, Mapping[tuple[str, str], int | None]]],
    *,
    by: User,
    reason: str = "",
) -> list[list[ResourceUse]]:
    """record_resource_use for each participant's units, all or none, with one query of each kind."""
    if not actor.can(Capability.RECORD_EPISODES):
        raise PermissionDenied
    participants = [participant for participant, _ in counted]
    randomised = set(
        Allocation.objects.filter(participant__in=participants).values_list("participant_id", flat=True)
    )
    typed = {(t.period, t.code): t for t in typed_resources(protocol)}
    stored: dict[int, dict[tuple[str, str], ResourceUse]] = {}
    for r in ResourceUse.objects.filter(participant__in=participants):
        stored.setdefault(r.participant_id, {})[(r.period, r.resource)] = r
    for participant, units in counted:
        if participant.pk not in randomised:
            raise ValidationError(
                f"{participant.trial_id} is not randomised: resource use is counted after randomisation"
            )
        problems = []
        for (period, code), value in units.items():
            if (period, code) not in typed:
                problems.append(
                    f"{code!r} is not a resource of the protocol counted from records for period {period!r}"
                )
            elif value is not None and not 0 <= value <= MAX_UNITS:
                problems.append(f"{typed[(period, code)].name}: {value} is outside 0 to {MAX_UNITS:,}")
        if problems:
            raise ValidationError(problems)
        existing = stored.get(participant.pk, {})
        if not reason.strip() and any(k in existing and existing[k].units != v for k, v in units.items()):
            raise ValidationError({"reason": "Give a reason for changing data that has already been entered"})
    written: dict[tuple[int, str, str], ResourceUse] = {}
    new = []
    with transaction.atomic():
        for participant, units in counted:
            existing = stored.get(participant.pk, {})
            for (period, code), value in units.items():
                row = existing.get((period, code))
                if row is None:
                    new.append(
                        ResourceUse(
                            participant=participant, period=period, resource=code, units=value, recorded_by=by
                        )
                    )
                else:
                    written[(participant.pk, period, code)] = (
                        audited_update(row, {"units": value}, by=by, reason=reason)
                        if row.units != value
                        else row
                    )
        for row in record_creations(new, by=by, reason=FIRST_ENTRY):
            written[(row.participant_id, row.period, row.resource)] = row
    return [[written[(p.pk, *key)] for key in units] for p, units in counted]
