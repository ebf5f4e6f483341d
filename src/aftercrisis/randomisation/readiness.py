"""What must be true before a participant is randomised: consent that covers it, and a baseline."""

from __future__ import annotations

from aftercrisis.followup.models import VisitOutcome, VisitRecord
from aftercrisis.participants.models import Participant, Status
from aftercrisis.protocol import Protocol
from aftercrisis.recruitment.consent import missing_required_items

BASELINE = "baseline"
BASELINE_INCOMPLETE = "the baseline questionnaires are not complete"


def why_not_ready(participant: Participant, protocol: Protocol) -> list[str]:
    """Plain reasons the participant cannot be randomised yet; empty when they can."""
    reasons = []
    if participant.status != Status.CONSENTED:
        reasons.append(f"status is {participant.get_status_display().lower()}, not consented")
    missing = missing_required_items(participant, protocol)
    if missing:
        reasons.append(
            f"consent on form version {protocol.consent.version} does not cover: {', '.join(missing)}"
        )
    if (
        protocol.randomisation.require_baseline
        and not VisitRecord.objects.filter(
            participant=participant, visit=BASELINE, outcome=VisitOutcome.COMPLETED
        ).exists()
    ):
        reasons.append(BASELINE_INCOMPLETE)
    return reasons
