"""Sending the workbook to every randomised participant, in both arms, and the postal print batch."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from aftercrisis.accounts.models import User
from aftercrisis.audit import audited_update, record_creation
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
    return record_creation(
        Dispatch(
            participant=participant,
            edition=CURRENT_VERSION,
            method=method,
            queued_on=on,
            sent_on=None if method == DispatchMethod.POST else on,
            address_confirmed=address_confirmed,
            recorded_by=by,
        ),
        by=by,
        reason="workbook dispatch recorded",
    )


@transaction.atomic
def queue_everyone_for_post(*, on: dt.date, by: User) -> int:
    """A postal copy for each randomised participant still waiting who has an address."""
    queued = 0
    for participant in awaiting_dispatch().exclude(identity__address="").exclude(identity__postcode=""):
        record_dispatch(participant, method=DispatchMethod.POST, on=on, address_confirmed=False, by=by)
        queued += 1
    return queued


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
        audited_update(dispatch, {"sent_on": on}, by=by, reason="posted in a print batch")
    return len(batch)


def mark_returned(dispatch: Dispatch, *, on: dt.date, by: User) -> Dispatch:
    if dispatch.sent_on is None or dispatch.method != DispatchMethod.POST:
        raise ValidationError("Only a workbook that was posted can come back undelivered")
    if on < dispatch.sent_on:
        raise ValidationError(
            f"Returned on cannot be before {dispatch.sent_on:%-d %b %Y}, when it was posted"
        )
    return audited_update(dispatch, {"returned_on": on}, by=by, reason="returned undelivered")
