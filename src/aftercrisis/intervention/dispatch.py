"""Sending the workbook to every randomised participant, in both arms, and the postal print batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from aftercrisis.accounts.models import User
from aftercrisis.audit import audited_changes, audited_update, record_creations
from aftercrisis.intervention.models import Dispatch, DispatchMethod
from aftercrisis.participants.models import Participant, Status
from aftercrisis.workbook.content import CURRENT_VERSION


def awaiting_dispatch() -> QuerySet[Participant]:
    """Randomised participants with no workbook dispatch yet, or whose last one came back."""
    return (
        Participant.objects.filter(allocation__isnull=False)
        .exclude(status=Status.WITHDRAWN)
        .exclude(pk__in=Dispatch.objects.filter(returned_on__isnull=True).values("participant"))
        .select_related("site", "identity")
    )


def postal_queue() -> QuerySet[Dispatch]:
    """Postal dispatches waiting to be printed and posted, oldest first."""
    return (
        Dispatch.objects.filter(method=DispatchMethod.POST, sent_on__isnull=True)
        .select_related("participant__identity", "participant__site")
        .order_by("queued_on", "participant__trial_id")
    )


def record_dispatch(
    participant: Participant,
    *,
    method: str,
    on: dt.date,
    address_confirmed: bool,
    by: User,
) -> Dispatch:
    """Queue a postal copy (sent when its print batch is posted), or record one handed over or e-mailed."""
    return record_dispatches([Dispatched(participant, method, on, address_confirmed)], by=by)[0]


@dataclass(frozen=True)
class Dispatched:
    """One workbook dispatch as record_dispatch takes it."""

    participant: Participant
    method: str
    on: dt.date
    address_confirmed: bool


def record_dispatches(dispatches: Sequence[Dispatched], *, by: User) -> list[Dispatch]:
    """record_dispatch for each, all or none, written together (a participant's allocation and identity
    are read only if the caller has not read them already)."""
    for d in dispatches:
        participant, method = d.participant, d.method
        if not hasattr(participant, "allocation"):
            raise ValidationError(
                f"{participant.trial_id} has not been randomised: the workbook goes after randomisation"
            )
        if method not in DispatchMethod.values:
            raise ValidationError({"method": "Select how the workbook is sent"})
        identity = participant.identity
        if method == DispatchMethod.POST and not (identity.address and identity.postcode):
            raise ValidationError(
                {"method": f"{participant.trial_id} has no postal address: add one before posting"}
            )
        if method == DispatchMethod.EMAIL and not identity.email:
            raise ValidationError({"method": f"{participant.trial_id} has no e-mail address"})
    return record_creations(
        [
            Dispatch(
                participant=d.participant,
                edition=CURRENT_VERSION,
                method=d.method,
                queued_on=d.on,
                sent_on=None if d.method == DispatchMethod.POST else d.on,
                address_confirmed=d.address_confirmed,
                recorded_by=by,
            )
            for d in dispatches
        ],
        by=by,
        reason="workbook dispatch recorded",
    )


@transaction.atomic
def queue_everyone_for_post(*, on: dt.date, by: User) -> int:
    """A postal copy for each randomised participant still waiting who has an address."""
    waiting = awaiting_dispatch().exclude(identity__address="").exclude(identity__postcode="")
    return len(record_dispatches([Dispatched(p, DispatchMethod.POST, on, False) for p in waiting], by=by))


@transaction.atomic
def mark_posted(dispatch_ids: list[int], *, on: dt.date, by: User) -> int:
    """The printed batch has gone in the post."""
    # Matched here, not in SQL: the queue bounds the batch, however many ids a damaged page sends.
    wanted = set(dispatch_ids)
    batch = [d for d in postal_queue().select_for_update(of=("self",)) if d.pk in wanted]
    for dispatch in batch:
        if on < dispatch.queued_on:
            raise ValidationError(
                f"Posted on cannot be before {dispatch.queued_on:%-d %b %Y}, when it was queued"
            )
    audited_changes([(d, [{"sent_on": on}]) for d in batch], by=by, reason="posted in a print batch")
    return len(batch)


def mark_returned(dispatch: Dispatch, *, on: dt.date, by: User) -> Dispatch:
    if dispatch.sent_on is None or dispatch.method != DispatchMethod.POST:
        raise ValidationError("Only a workbook that was posted can come back undelivered")
    if on < dispatch.sent_on:
        raise ValidationError(
            f"Returned on cannot be before {dispatch.sent_on:%-d %b %Y}, when it was posted"
        )
    return audited_update(dispatch, {"returned_on": on}, by=by, reason="returned undelivered")
