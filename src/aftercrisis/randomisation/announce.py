"""Who hears about an allocation: the trial managers, the site's peer support workers for the
intervention arm, and the participant by letter. Never a masked role.

The messages are composed inside the allocation's transaction and sent after it commits."""

from __future__ import annotations

import contextlib

from django.db.models import Q
from django.template.loader import render_to_string

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.notifications import Message, NotificationRefused, email, letter
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import Allocation


def _emails(role: Role, site_id: int | None = None) -> list[str]:
    where = Q(role_assignments__role=role, is_active=True) & ~Q(email="")
    if site_id is not None:
        where &= Q(role_assignments__site_id=site_id) | Q(role_assignments__site=None)
    return sorted(set(User.objects.filter(where).values_list("email", flat=True)))


def participant_letter(allocation: Allocation, trial: Protocol) -> str:
    participant = allocation.participant
    return render_to_string(
        "randomisation/letter.txt.jinja",
        {
            "participant": participant,
            "identity": participant.identity,
            "allocation": allocation,
            "arm": trial.arm(allocation.arm),
            "trial": trial,
            "is_intervention": allocation.arm == trial.intervention.arm,
        },
    ).strip()


def allocation_notices(allocation: Allocation, trial: Protocol) -> list[Message]:
    """The allocation's notifications, not yet sent; a participant without a postal address gets no letter."""
    participant = allocation.participant
    arm = trial.arm(allocation.arm)
    notices = []
    managers = _emails(Role.TRIAL_MANAGER)
    if managers:
        notices.append(
            email(
                managers,
                f"{trial.trial.short_name}: {participant.trial_id} randomised",
                f"{participant.trial_id} at {participant.site.code} was randomised on "
                f"{allocation.randomised_on:%d %b %Y} to: {arm.name}.",
                reference=participant.trial_id,
            )
        )
    workers = _emails(Role.PEER_SUPPORT_WORKER, participant.site_id)
    if allocation.arm == trial.intervention.arm and workers:
        notices.append(
            email(
                workers,
                f"{trial.trial.short_name}: a new participant for peer support at {participant.site.code}",
                f"{participant.trial_id} joins peer support at {participant.site.code}. "
                "Please arrange the first session within the next week.",
                reference=participant.trial_id,
            )
        )
    identity = participant.identity
    lines = [
        f"{identity.given_name} {identity.family_name}",
        *identity.address.splitlines(),
        identity.postcode,
    ]
    # No usable postal address: the letter is given by hand instead.
    with contextlib.suppress(NotificationRefused):
        notices.append(
            letter(
                lines,
                participant_letter(allocation, trial),
                subject=f"Your place in the {trial.trial.short_name} study",
                reference=participant.trial_id,
            )
        )
    return notices
