"""A member of staff's own API tokens: created (the secret shown once) and revoked here.

A token acts in the role its owner is acting in when it is made, so a role that may know an arm has
signed in with its second factor first (the pages' own rule)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from aftercrisis.accounts.decorators import staff_user
from aftercrisis.api.forms import TokenForm
from aftercrisis.api.tokens import issue_token, revoke_token, tokens_of
from aftercrisis.forms import show_refusal


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    actor = getattr(request, "actor", None)
    if actor is None:
        return redirect("accounts:choose_role")
    form = TokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = issue_token(
                user,
                name=data["name"],
                role=actor.role,
                expires_on=data["expires_on"],
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            form = TokenForm()
    return render(
        request,
        "api/tokens.jinja",
        {
            "form": form,
            "issued": issued,
            "tokens": tokens_of(user),
            "today": timezone.localdate(),
            "role": actor.role,
        },
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = revoke_token(staff_user(request), pk)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("api_tokens:list")
