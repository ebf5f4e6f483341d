"""Reads about staff and their roles."""

from __future__ import annotations

from django.db.models import QuerySet

from aftercrisis.accounts.models import RoleAssignment, Site, User
from aftercrisis.accounts.policy import Actor
from aftercrisis.accounts.roles import Role


def roles_of(user: User) -> list[Role]:
    codes = RoleAssignment.objects.filter(user=user).values_list("role", flat=True).distinct()
    return sorted({Role(c) for c in codes}, key=list(Role).index)


def actor_for(user: User, role: Role | str | None) -> Actor | None:
    """The actor for a user in the role they chose, or their only role; None if they must choose."""
    assignments = list(RoleAssignment.objects.filter(user=user).values_list("role", "site_id"))
    held = {Role(r) for r, _ in assignments}
    if role is None and len(held) == 1:
        role = next(iter(held))
    if role is None or Role(role) not in held:
        return None
    role = Role(role)
    sites = [s for r, s in assignments if r == role]
    return Actor(user_id=user.pk, role=role, site_ids=None if None in sites else frozenset(sites))


def sites_for(actor: Actor) -> QuerySet[Site]:
    sites = Site.objects.all()
    return sites if actor.site_ids is None else sites.filter(pk__in=actor.site_ids)


def staff_with_roles() -> QuerySet[User]:
    """Every member of staff, disabled ones and those left with no role included."""
    return User.objects.order_by("last_name", "first_name", "username").prefetch_related(
        "role_assignments__site"
    )
