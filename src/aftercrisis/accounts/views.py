from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from aftercrisis.accounts.decorators import requires, staff_user
from aftercrisis.accounts.forms import ChooseRoleForm, SignInForm, TokenForm
from aftercrisis.accounts.middleware import ACTING_ROLE
from aftercrisis.accounts.models import Site
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.accounts.selectors import roles_of, staff_with_roles


class SignInView(LoginView):
    template_name = "accounts/login.jinja"
    form_class = SignInForm
    redirect_authenticated_user = True


def home(request: HttpRequest) -> HttpResponse:
    """Everyone lands on their role's own page."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        return redirect("accounts:choose_role")
    return redirect(actor.home)


@login_required
@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout(request)
        return redirect("accounts:login")
    return render(request, "accounts/logout.jinja")


@login_required
@require_http_methods(["GET", "POST"])
def choose_role(request: HttpRequest) -> HttpResponse:
    roles = roles_of(staff_user(request))
    form = ChooseRoleForm(request.POST or None, roles=roles)
    if request.method == "POST" and form.is_valid():
        request.session[ACTING_ROLE] = form.cleaned_data["role"]
        return redirect("home")
    return render(request, "accounts/choose_role.jinja", {"form": form, "roles": roles})


def _qr_svg(uri: str) -> str:
    import qrcode
    import qrcode.image.svg

    return qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="unicode")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app when asked, then ask for its code at each sign-in."""
    user = staff_user(request)
    device = TOTPDevice.objects.devices_for_user(user, confirmed=None).first()
    if request.method == "POST" and "set_up" in request.POST:
        if device is None:  # asking again shows the same key
            TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        return redirect("accounts:two_factor")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device is None:
            form.add_error("token", "Set up an authenticator app before entering a code")
        elif device.verify_token(form.cleaned_data["token"]):
            if not device.confirmed:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect("home")
        else:
            form.add_error("token", "That code is not right or has expired; try the next one")
    context: dict[str, Any] = {"form": form, "device": device}
    if device is not None and not device.confirmed:
        context.update(
            qr_svg=_qr_svg(device.config_url), secret=device.config_url.split("secret=")[1].split("&")[0]
        )
    context["required"] = settings.OTP_REQUIRED_FOR_UNBLINDED
    return render(request, "accounts/two_factor.jinja", context)


@requires(Capability.VIEW_SITES)
def sites(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/sites.jinja", {"sites": Site.objects.all(), "staff": staff_with_roles()})
