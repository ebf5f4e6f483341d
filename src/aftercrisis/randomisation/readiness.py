"""What must be true before a participant is randomised: consent that covers it, and a baseline."""

from __future__ import annotations

from typing import TypedDict, TypeGuard

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django_stubs_ext import WithAnnotations

from aftercrisis.followup.models import VisitOutcome, VisitRecord
from aftercrisis.participants.models import Participant, Status
from aftercrisis.protocol import Protocol
from aftercrisis.recruitment.consent import missing_required_items
from aftercrisis.recruitment.models import ConsentRecord

BASELINE = "baseline"
BASELINE_INCOMPLETE = "the baseline questionnaires are not complete"


class Readiness(TypedDict):
    agreed_on_current_form: dict[str, bool] | None
    baseline_complete: bool


def with_readiness(
    participants: QuerySet[Participant], protocol: Protocol
) -> QuerySet[WithAnnotations[Participant, Readiness]]:
    """The participants with what readiness asks of them read in the same query: their answers on the
    current consent form, and whether their baseline is complete."""
    consent = ConsentRecord.objects.filter(participant=OuterRef("pk"), version=protocol.consent.version)
    baseline = VisitRecord.objects.filter(
        participant=OuterRef("pk"), visit=BASELINE, outcome=VisitOutcome.COMPLETED
    )
    return participants.annotate(
        agreed_on_current_form=Subquery(consent.values("items")[:1]), baseline_complete=Exists(baseline)
    )


def why_not_ready(participant: Participant, protocol: Protocol) -> list[str]:
    """Plain reasons the participant cannot be randomised yet; empty when they can. A participant read
    through with_readiness is answered without asking the database again."""
    read = (
        participant
        if _read_with_readiness(participant)
        else with_readiness(Participant.objects.filter(pk=participant.pk), protocol).get()
    )
    reasons = []
    if participant.status != Status.CONSENTED:
        reasons.append(f"status is {participant.get_status_display().lower()}, not consented")
    missing = missing_required_items(read.agreed_on_current_form or {}, protocol)
    if missing:
        reasons.append(
            f"consent on form version {protocol.consent.version} does not cover: {', '.join(missing)}"
        )
    if protocol.randomisation.require_baseline and not read.baseline_complete:
        reasons.append(BASELINE_INCOMPLETE)
    return reasons


def _read_with_readiness(participant: Participant) -> TypeGuard[WithAnnotations[Participant, Readiness]]:
    return hasattr(participant, "baseline_complete")
