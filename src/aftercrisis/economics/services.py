"""Writes of resource use: all of a form's counts or none, audited, a reason for any change."""

from __future__ import annotations

from collections.abc import Mapping

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
    if not actor.can(Capability.RECORD_EPISODES):
        raise PermissionDenied
    if not Allocation.objects.filter(participant=participant).exists():
        raise ValidationError(
            f"{participant.trial_id} is not randomised: resource use is counted after randomisation"
        )
    typed = {(t.period, t.code): t for t in typed_resources(protocol)}
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
    existing = {(r.period, r.resource): r for r in ResourceUse.objects.filter(participant=participant)}
    changed = [key for key, value in units.items() if key in existing and existing[key].units != value]
    if changed and not reason.strip():
        raise ValidationError({"reason": "Give a reason for changing data that has already been entered"})
    written = {}
    with transaction.atomic():
        for key, value in units.items():
            if key in existing:
                row = existing[key]
                written[key] = (
                    audited_update(row, {"units": value}, by=by, reason=reason) if row.units != value else row
                )
        new = [
            ResourceUse(participant=participant, period=period, resource=code, units=value, recorded_by=by)
            for (period, code), value in units.items()
            if (period, code) not in existing
        ]
        for row in record_creations(new, by=by, reason=FIRST_ENTRY):
            written[(row.period, row.resource)] = row
    return [written[key] for key in units]
