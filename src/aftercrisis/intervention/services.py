from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from aftercrisis.accounts.models import RoleAssignment, User
from aftercrisis.accounts.roles import Role
from aftercrisis.audit import record_creation
from aftercrisis.config.trial import protocol
from aftercrisis.intervention.models import CaseloadAssignment
from aftercrisis.participants.models import Participant
from aftercrisis.randomisation.models import Allocation


def assign_to_caseload(
    participant: Participant, worker: User, *, by: User, on: dt.date
) -> CaseloadAssignment:
    allocation = Allocation.objects.filter(participant=participant).first()
    if allocation is None or allocation.arm != protocol().intervention.arm:
        raise ValidationError(f"{participant.trial_id} is not in the peer support arm")
    works_there = RoleAssignment.objects.filter(user=worker, role=Role.PEER_SUPPORT_WORKER).filter(
        Q(site_id=participant.site_id) | Q(site=None)
    )
    if not works_there.exists():
        raise ValidationError(
            f"{worker.display_name} is not a peer support worker at {participant.site.code}"
        )
    return record_creation(
        CaseloadAssignment(participant=participant, worker=worker, assigned_on=on, assigned_by=by),
        by=by,
        reason="assigned to caseload",
    )


def assign_least_loaded_worker(
    participant: Participant, *, by: User, on: dt.date
) -> CaseloadAssignment | None:
    """Give a new intervention participant to the site's peer support worker with the fewest participants."""
    workers = (
        User.objects.filter(
            Q(role_assignments__site_id=participant.site_id) | Q(role_assignments__site=None),
            role_assignments__role=Role.PEER_SUPPORT_WORKER,
            is_active=True,
        )
        .distinct()
        .annotate(load=Count("caseload"))
        .order_by("load", "pk")
    )
    worker = workers.first()
    if worker is None:
        return None
    return assign_to_caseload(participant, worker, by=by, on=on)
