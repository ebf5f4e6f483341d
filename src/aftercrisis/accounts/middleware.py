"""Attach the acting role to each request, and hold unblinded roles at the two-factor step."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from aftercrisis.accounts.models import User
from aftercrisis.accounts.selectors import actor_for

ACTING_ROLE = "acting_role"
# Signing in, choosing a role and enrolling a device must work before the second factor.
OPEN_BEFORE_SECOND_FACTOR = ("/account/", "/static/")


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        actor = actor_for(user, request.session.get(ACTING_ROLE)) if isinstance(user, User) else None
        request.actor = actor  # type: ignore[attr-defined]
        if (
            actor is not None
            and actor.is_unblinded
            and settings.OTP_REQUIRED_FOR_UNBLINDED
            and not user.is_verified()  # type: ignore[union-attr]  # set by django-otp's middleware
            and not request.path.startswith(OPEN_BEFORE_SECOND_FACTOR)
        ):
            return redirect("accounts:two_factor")
        return self.get_response(request)
