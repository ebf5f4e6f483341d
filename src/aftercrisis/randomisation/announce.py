"""Who hears about an allocation: the trial managers, the site's peer support workers for the
intervention arm, and the participant by letter. Never a masked role.

The messages are composed inside the allocations' transaction and sent after it commits."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from django.db.models import Q
from django.template.loader import render_to_string

from aftercrisis.accounts.models import RoleAssignment, User
from aftercrisis.accounts.roles import Role
from aftercrisis.notifications import Message, NotificationRefused, email, letter
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.models import Allocation


def _emails(role: Role) -> list[str]:
    where = Q(role_assignments__role=role, is_active=True) & ~Q(email="")
    return sorted(set(User.objects.filter(where).values_list("email", flat=True)))


def _recipients(site_ids: set[int]) -> tuple[list[str], dict[int, list[str]]]:
    """The trial managers' addresses, and each site's peer support workers' (those who work at every
    site included), in one query: every active trial manager's and peer support worker's role with their
    address, the workers' sites sorted out here (a few rows: a handful of workers to a site)."""
    found = list(
        RoleAssignment.objects.filter(
            role__in=[Role.TRIAL_MANAGER, Role.PEER_SUPPORT_WORKER] if site_ids else [Role.TRIAL_MANAGER],
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("user__email", "role", "site_id")
    )
    managers = sorted({e for e, role, _ in found if role == Role.TRIAL_MANAGER})
    workers = {
        site: sorted({e for e, role, at in found if role == Role.PEER_SUPPORT_WORKER and at in (site, None)})
        for site in site_ids
    }
    return managers, workers


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


def allocation_notices(allocations: Sequence[Allocation], trial: Protocol) -> list[list[Message]]:
    """Each allocation's notifications, not yet sent, with one query for the trial managers and the peer
    support workers of all their sites; a participant without a postal address gets no letter.
    The participants are read with their site and identity."""
    notices: list[list[Message]] = [[] for _ in allocations]
    if not allocations:
        return notices
    managers, workers = _recipients(
        {a.participant.site_id for a in allocations if a.arm == trial.intervention.arm}
    )
    for allocation, sent in zip(allocations, notices, strict=True):
        participant = allocation.participant
        arm = trial.arm(allocation.arm)
        if managers:
            sent.append(
                email(
                    managers,
                    f"{trial.trial.short_name}: {participant.trial_id} randomised",
                    f"{participant.trial_id} at {participant.site.code} was randomised on "
                    f"{allocation.randomised_on:%d %b %Y} to: {arm.name}.",
                    reference=participant.trial_id,
                    # Every trial manager, none shown the others' addresses (nor a header of all of them
                    # written out for each allocation).
                    blind=True,
                )
            )
        if allocation.arm == trial.intervention.arm and workers[participant.site_id]:
            sent.append(
                email(
                    workers[participant.site_id],
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
            sent.append(
                letter(
                    lines,
                    participant_letter(allocation, trial),
                    subject=f"Your place in the {trial.trial.short_name} study",
                    reference=participant.trial_id,
                )
            )
    return notices
