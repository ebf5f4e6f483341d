"""Attach the acting role to each request, hold anyone who may see an arm at the two-factor step, and end idle sessions."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import ArmVisibility, arm_visibility
from aftercrisis.accounts.selectors import actor_for
from aftercrisis.lock.services import is_locked

ACTING_ROLE = "acting_role"
# Signing in, choosing a role and enrolling a device must work before the second factor.
OPEN_BEFORE_SECOND_FACTOR = ("/account/", "/static/")
RENEWED_AT = "renewed_at"


class IdleExpiryMiddleware:
    """A session ends SESSION_COOKIE_AGE seconds after its last request, give or take a tenth.

    Saving the session on every request would write to the database on every page, so its expiry
    is renewed (the session changed, hence saved) only once a tenth of that age has passed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        now = int(time.time())
        if session.session_key and now - session.get(RENEWED_AT, 0) >= settings.SESSION_COOKIE_AGE // 10:
            session[RENEWED_AT] = now
        return self.get_response(request)


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        actor = actor_for(user, request.session.get(ACTING_ROLE)) if isinstance(user, User) else None
        request.actor = actor  # type: ignore[attr-defined]
        if (
            actor is not None
            and settings.OTP_REQUIRED_FOR_UNBLINDED
            and not user.is_verified()  # type: ignore[union-attr]  # set by django-otp's middleware
            and not request.path.startswith(OPEN_BEFORE_SECOND_FACTOR)
            # The same rule as every page: whoever may see an arm right now (the statistician once locked).
            and arm_visibility(actor, locked=is_locked) is not ArmVisibility.NONE
        ):
            return redirect("accounts:two_factor")
        return self.get_response(request)
