"""Secure participant links: issue one, open it once with its code, then act as that participant only.

A link is a 256-bit random token in the URL plus a 6-digit code sent separately (for example the
link by e-mail, the code by SMS or letter). Both are stored only as SHA-256 hashes. Opening spends the
link; five wrong codes spend it too. The participant's session then reaches that participant's own
pages for that purpose, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from aftercrisis.accounts.models import User
from aftercrisis.lock.services import refuse_if_locked
from aftercrisis.participants.models import Participant, ParticipantLink

SESSION_KEY = "participant_link"
DEFAULT_LIFETIME = dt.timedelta(days=7)
MAX_FAILED_ATTEMPTS = 5


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedLink:
    link: ParticipantLink
    token: str  # goes in the URL
    code: str  # sent separately


class LinkRefused(Exception):
    """Why a link cannot be opened, in words a participant can act on."""


def issue_link(
    participant: Participant, purpose: str, *, by: User | None, lifetime: dt.timedelta = DEFAULT_LIFETIME
) -> IssuedLink:
    refuse_if_locked()  # what a link opens to is written into the trial's data
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10**6):06d}"
    link = ParticipantLink.objects.create(
        participant=participant,
        purpose=purpose,
        token_hash=_hash(token),
        code_hash=_hash(code),
        created_by=by,
        expires_at=timezone.now() + lifetime,
    )
    return IssuedLink(link, token, code)


def open_link(token: str, code: str) -> ParticipantLink:
    """Spend the link if the code is right; refuse an unknown, expired, used or locked link."""
    with transaction.atomic():
        link = ParticipantLink.objects.select_for_update().filter(token_hash=_hash(token)).first()
        if link is None:
            raise LinkRefused("This link is not recognised. Ask the study team for a new one.")
        if link.used_at is not None:
            raise LinkRefused("This link has already been used. Ask the study team for a new one.")
        if link.expires_at <= timezone.now():
            raise LinkRefused("This link has expired. Ask the study team for a new one.")
        if link.failed_attempts >= MAX_FAILED_ATTEMPTS:
            raise LinkRefused(
                "This link is locked after too many wrong codes. Ask the study team for a new one."
            )
        if hmac.compare_digest(link.code_hash, _hash(code.strip())):
            link.used_at = timezone.now()
            link.save(update_fields=["used_at"])
            return link
        # A wrong code is counted and committed before it is refused.
        link.failed_attempts += 1
        link.save(update_fields=["failed_attempts"])
        left = MAX_FAILED_ATTEMPTS - link.failed_attempts
    raise LinkRefused(
        f"That code is not right. You have {left} more tries." if left else "That code is not right."
    )


def start_participant_session(request: HttpRequest, link: ParticipantLink) -> None:
    """The session now belongs to this participant, for this purpose only; any staff sign-in ends."""
    from django.contrib.auth import logout

    logout(request)  # flushes the session: a shared computer never mixes staff and participant access
    request.session[SESSION_KEY] = {"participant": link.participant_id, "purpose": link.purpose}
    request.session.set_expiry(30 * 60)


def session_participant(request: HttpRequest, purpose: str) -> Participant | None:
    held = request.session.get(SESSION_KEY)
    if not held or held.get("purpose") != purpose:
        return None
    return Participant.objects.filter(pk=held["participant"]).first()


def participant_required(
    purpose: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """A view for the participant of the session's link; passes `participant` to the view."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            participant = session_participant(request, purpose)
            if participant is None:
                raise PermissionDenied
            return view(request, participant, *args, **kwargs)

        return wrapped

    return decorator
