"""Writes about sites and staff."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from aftercrisis.accounts.models import RoleAssignment, Site, User
from aftercrisis.accounts.policy import TRIAL_WIDE_ROLES, Actor, Capability
from aftercrisis.accounts.roles import Role
from aftercrisis.notifications import email, send_on_commit
from aftercrisis.protocol import Protocol


@transaction.atomic
def sync_sites(protocol: Protocol) -> list[Site]:
    """Make the site table match the protocol's sites (sites are never removed)."""
    sites = []
    for declared in protocol.sites:
        contact = declared.duty_contact
        site, _ = Site.objects.update_or_create(
            code=declared.code,
            defaults={
                "name": declared.name,
                "trust": declared.trust,
                "duty_contact_name": contact.name if contact else "",
                "duty_contact_email": contact.email if contact else "",
            },
        )
        sites.append(site)
    return sites


@transaction.atomic
def create_staff(
    *,
    username: str,
    password: str,
    first_name: str,
    last_name: str,
    email: str,
    roles: Iterable[tuple[Role, Site | None]],
    hashed: bool = False,
) -> User:
    """`hashed` when `password` is already a hash, as for the demo's logins: they share one published
    password, so one slow hash serves them all."""
    user = User(
        username=User.normalize_username(username),
        password=password if hashed else make_password(password),
        first_name=first_name,
        last_name=last_name,
        email=User.objects.normalize_email(email),
    )
    user.save()
    for role, site in roles:
        RoleAssignment.objects.create(user=user, role=role, site=site)
    return user


# Where e-mail goes nowhere a person would read it: the sign-in link is shown instead.
UNSENT_EMAIL_BACKENDS = frozenset(
    {"django.core.mail.backends.console.EmailBackend", "django.core.mail.backends.dummy.EmailBackend"}
)

# Staff managed by the trial manager in the application. Every change is kept by django-simple-history
# with who made it and why; none of it is trial data, so it goes on while the database is locked.


def _saved(instance: models.Model, *, by: User, reason: str, fields: list[str] | None = None) -> None:
    instance._history_user = by  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.full_clean()
    instance.save(update_fields=fields)


def _require(actor: Actor) -> None:
    if not actor.can(Capability.MANAGE_STAFF):
        raise PermissionDenied


@transaction.atomic
def add_staff(
    actor: Actor,
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    site: Site | None,
    by: User,
) -> User:
    """A new member of staff with one role and no password: they choose one through a sign-in link."""
    _require(actor)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username {username} is already taken"})
    if role in TRIAL_WIDE_ROLES and site is not None:
        raise ValidationError({"site": f"A {role.label.lower()} works across all sites: choose no site"})
    if role not in TRIAL_WIDE_ROLES and site is None:
        raise ValidationError({"site": f"Choose the site where this {role.label.lower()} works"})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_unusable_password()
    _saved(user, by=by, reason="member of staff added")
    _saved(RoleAssignment(user=user, role=role, site=site), by=by, reason="role assigned")
    return user


@transaction.atomic
def assign_role(actor: Actor, user: User, role: Role, site: Site | None, *, by: User) -> RoleAssignment:
    _require(actor)
    if role in TRIAL_WIDE_ROLES and site is not None:
        raise ValidationError({"site": f"A {role.label.lower()} works across all sites: choose no site"})
    if RoleAssignment.objects.filter(user=user, role=role, site=site).exists():
        where = site.code if site else "all sites"
        raise ValidationError({"role": f"{user.display_name} is already a {role.label.lower()} ({where})"})
    assignment = RoleAssignment(user=user, role=role, site=site)
    _saved(assignment, by=by, reason="role assigned")
    return assignment


@transaction.atomic
def remove_role(actor: Actor, assignment: RoleAssignment, *, by: User, reason: str) -> None:
    _require(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for removing the role"})
    if assignment.user_id == by.pk and assignment.role == Role.TRIAL_MANAGER:
        raise ValidationError("You cannot remove your own trial manager role: ask another trial manager")
    assignment._history_user = by  # type: ignore[attr-defined]
    assignment._change_reason = reason.strip()  # type: ignore[attr-defined]
    assignment.delete()


def set_active(actor: Actor, user: User, active: bool, *, by: User, reason: str) -> User:
    """Disable a member of staff (they can no longer sign in; their records stay theirs) or re-enable them."""
    _require(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason"})
    if user.pk == by.pk and not active:
        raise ValidationError("You cannot disable yourself: ask another trial manager")
    if user.is_active != active:
        user.is_active = active
        _saved(user, by=by, reason=reason.strip(), fields=["is_active"])
    return user


def sign_in_link(actor: Actor, user: User, *, by: User, base_url: str) -> tuple[str, bool]:
    """A one-time link for `user` to choose a password, valid for PASSWORD_RESET_TIMEOUT seconds.

    It is e-mailed when the person has an address and e-mail is set up, and then not returned; otherwise
    it is returned for the trial manager to pass on, shown once. Returns (link or "", whether e-mailed).
    Using it, or the password changing in any other way, spends it.
    """
    _require(actor)
    if not user.is_active:
        raise ValidationError(
            f"{user.display_name} is disabled: re-enable them before sending a sign-in link"
        )
    link = base_url + reverse(
        "accounts:set_password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    _saved(user, by=by, reason="sign-in link issued")  # kept in the history: who issued one, when
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    if user.email and settings.EMAIL_BACKEND not in UNSENT_EMAIL_BACKENDS:
        send_on_commit(
            [
                email(
                    user.email,
                    "Your sign-in link",
                    f"{by.display_name} has set up your sign-in. Choose your password here within {hours} "
                    f"hours; the link works once:\n\n{link}\n",
                )
            ]
        )
        return "", True
    return link, False


@transaction.atomic
def update_duty_contact(
    actor: Actor, site: Site, *, name: str, email_address: str, by: User, reason: str
) -> Site:
    """Who receives the site's risk concerns. They reveal the arm: name someone who may know it."""
    _require(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for changing the duty contact"})
    if bool(name.strip()) != bool(email_address.strip()):
        raise ValidationError(
            {"duty_contact_email": "Give both the duty contact's name and e-mail, or neither"}
        )
    site.duty_contact_name, site.duty_contact_email = name.strip(), email_address.strip()
    _saved(site, by=by, reason=reason.strip(), fields=["duty_contact_name", "duty_contact_email"])
    return site
