"""A member of staff's own API tokens: created (the secret shown once) and revoked here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from aftercrisis.accounts.decorators import staff_user
from aftercrisis.accounts.selectors import roles_of
from aftercrisis.api.forms import TokenForm
from aftercrisis.api.tokens import issue_token, revoke_token, tokens_of
from aftercrisis.forms import show_refusal


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = TokenForm(request.POST or None, roles=roles_of(user))
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = issue_token(
                user,
                name=data["name"],
                role=data["role"],
                expires_on=data["expires_on"],
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            form = TokenForm(roles=roles_of(user))
    return render(
        request,
        "api/tokens.jinja",
        {"form": form, "issued": issued, "tokens": tokens_of(user), "today": timezone.localdate()},
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = revoke_token(staff_user(request), pk)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("api_tokens:list")
