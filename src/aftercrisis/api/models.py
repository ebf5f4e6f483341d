"""Personal API tokens, and what each randomisation sent with an idempotency key gave."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role


class ApiToken(models.Model):
    """A member of staff's token for one of their roles. Only the SHA-256 of the secret is kept: the
    secret itself is shown once, when the token is created. Its sites are the role's, as they are now."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=60)
    role = models.CharField(max_length=32, choices=Role.choices)
    secret_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_on = models.DateField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class IdempotentRandomisation(models.Model):
    """A randomisation asked for with an `Idempotency-Key`: the same key from the same token is answered
    with the same allocation, however many times and however concurrently it is sent."""

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=255)
    participant = models.ForeignKey("participants.Participant", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="one_randomisation_per_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.token})"
