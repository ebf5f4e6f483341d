from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.forms import (
    ActiveForm,
    ChoosePasswordForm,
    ChooseRoleForm,
    DutyContactForm,
    RemoveRoleForm,
    RoleFields,
    SignInForm,
    StaffForm,
    TokenForm,
)
from aftercrisis.accounts.middleware import ACTING_ROLE
from aftercrisis.accounts.models import RoleAssignment, Site, User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import roles_of, staff_with_roles
from aftercrisis.accounts.services import (
    add_staff,
    assign_role,
    remove_role,
    set_active,
    sign_in_link,
    update_duty_contact,
)
from aftercrisis.forms import show_refusal


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
    return render(
        request,
        "accounts/sites.jinja",
        {
            "sites": Site.objects.all(),
            "staff": staff_with_roles(),
            "can_manage": acting(request).can(Capability.MANAGE_STAFF),
        },
    )


@requires(Capability.MANAGE_STAFF)
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    form = StaffForm(request.POST or None, sites=Site.objects.all())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = add_staff(
                acting(request),
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=Role(data["role"]),
                site=form.chosen_site(),
                by=staff_user(request),
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"{user.display_name} was added. Send them a sign-in link.")
            return redirect("accounts:staff_member", pk=user.pk)
    return render(request, "accounts/staff_new.jinja", {"form": form})


@requires(Capability.MANAGE_STAFF)
@require_http_methods(["GET", "POST"])
def staff_member(request: HttpRequest, pk: int) -> HttpResponse:
    """One member of staff: their roles, enabling and disabling, and a sign-in link."""
    actor, by = acting(request), staff_user(request)
    person = get_object_or_404(User, pk=pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    sites = Site.objects.all()
    role_form = RoleFields(request.POST if action == "role" else None, sites=sites, prefix="role")
    remove_form = RemoveRoleForm(request.POST if action == "remove_role" else None, prefix="remove")
    active_form = ActiveForm(request.POST if action == "active" else None, prefix="active")
    link = ""
    try:
        if action == "role" and role_form.is_valid():
            assign_role(actor, person, Role(role_form.cleaned_data["role"]), role_form.chosen_site(), by=by)
            messages.success(request, "The role was assigned.")
            return redirect("accounts:staff_member", pk=pk)
        if action == "remove_role" and remove_form.is_valid():
            assignment = get_object_or_404(
                RoleAssignment, pk=remove_form.cleaned_data["assignment"], user=person
            )
            remove_role(actor, assignment, by=by, reason=remove_form.cleaned_data["reason"])
            messages.success(request, "The role was removed.")
            return redirect("accounts:staff_member", pk=pk)
        if action == "active" and active_form.is_valid():
            set_active(actor, person, not person.is_active, by=by, reason=active_form.cleaned_data["reason"])
            messages.success(
                request, f"{person.display_name} was {'enabled' if person.is_active else 'disabled'}."
            )
            return redirect("accounts:staff_member", pk=pk)
        if action == "link":
            link, sent = sign_in_link(actor, person, by=by, base_url=request.build_absolute_uri("/")[:-1])
            if sent:
                messages.success(request, f"A sign-in link was e-mailed to {person.email}.")
                return redirect("accounts:staff_member", pk=pk)
    except ValidationError as exc:
        show_refusal(
            {"role": role_form, "remove_role": remove_form, "active": active_form}.get(action, role_form), exc
        )
    assignments = person.role_assignments.select_related("site").order_by("role", "site__code")
    return render(
        request,
        "accounts/staff_member.jinja",
        {
            "person": person,
            "assignments": assignments,
            "role_form": role_form,
            "remove_form": remove_form,
            "active_form": active_form,
            "link": link,
            "timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )


@requires(Capability.MANAGE_STAFF)
@require_http_methods(["GET", "POST"])
def duty_contact(request: HttpRequest, code: str) -> HttpResponse:
    site = get_object_or_404(Site, code=code)
    form = DutyContactForm(
        request.POST or None, initial={"name": site.duty_contact_name, "email": site.duty_contact_email}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            update_duty_contact(
                acting(request),
                site,
                name=data["name"],
                email_address=data["email"],
                by=staff_user(request),
                reason=data["reason"],
            )
        except ValidationError as exc:
            show_refusal(form, exc, {"duty_contact_email": "email"})
        else:
            messages.success(request, f"The duty contact of {site.name} was saved.")
            return redirect("sites")
    return render(request, "accounts/duty_contact.jinja", {"site": site, "form": form})


class SetPasswordView(PasswordResetConfirmView):
    """Where a sign-in link leads: choose a password, then sign in (with the second factor if the role needs it)."""

    template_name = "accounts/set_password.jinja"
    form_class = ChoosePasswordForm
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, "Your password was saved. Sign in with it now.")
        return super().form_valid(form)
