"""Writes about sites and staff."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from aftercrisis.accounts.models import RoleAssignment, Site, User
from aftercrisis.accounts.roles import Role
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
) -> User:
    user = User.objects.create_user(
        username=username, password=password, first_name=first_name, last_name=last_name, email=email
    )
    for role, site in roles:
        RoleAssignment.objects.create(user=user, role=role, site=site)
    return user
