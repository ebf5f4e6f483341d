from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.roles import Role


class Site(models.Model):
    """A crisis resolution team taking part in the trial."""

    code = models.CharField(max_length=4, unique=True)
    name = models.CharField(max_length=120)
    trust = models.CharField("NHS trust", max_length=160)
    # Receives peer support workers' risk concerns, which reveal the arm: someone who may know it.
    duty_contact_name = models.CharField(max_length=120, blank=True)
    duty_contact_email = models.EmailField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class User(AbstractUser):
    """A member of staff. Who they are is here; what they may do is in their role assignments."""

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class RoleAssignment(models.Model):
    """One role for one user, at one site or, with no site, across the whole trial."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "site"], name="one_assignment_per_role_and_site"),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(site=None),
                name="one_trial_wide_assignment_per_role",
            ),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site else "all sites"
        return f"{self.user} — {self.get_role_display()} ({where})"
