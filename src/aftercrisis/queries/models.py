"""Data queries and their threads. Queries are trial data: audited, never deleted, refused while locked."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from aftercrisis.accounts.models import User
from aftercrisis.participants.models import Participant, TrialRecord


class QueryState(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


class QueryAction(models.TextChoices):
    RAISED = "raised", "Raised"
    ANSWERED = "answered", "Answered"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Re-opened"


class DataQuery(TrialRecord):
    """A question about one field of one participant's data, owned by the researchers at their site."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="data_queries")
    form = models.CharField(max_length=20)
    field = models.CharField(max_length=40)
    # The automatic check that found it, and which of the participant's records; blank when raised by hand.
    check_code = models.CharField("check", max_length=40, blank=True)
    key = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=10, choices=QueryState.choices, default=QueryState.OPEN)
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["raised_at", "pk"]
        verbose_name_plural = "data queries"
        constraints = [
            # Re-running the checks finds the same query again instead of raising another.
            models.UniqueConstraint(
                fields=["participant", "check_code", "key"],
                condition=~models.Q(check_code=""),
                name="one_query_per_discrepancy",
            )
        ]

    def __str__(self) -> str:
        return f"query {self.pk} on {self.participant} ({self.form}.{self.field})"


class QueryMessage(TrialRecord):
    """One step of a query's thread: what was said, by whom (None: the automatic checks), and when."""

    query = models.ForeignKey(DataQuery, on_delete=models.PROTECT, related_name="messages")
    action = models.CharField(max_length=10, choices=QueryAction.choices)
    text = models.TextField(max_length=2000)
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} on query {self.query_id}"
