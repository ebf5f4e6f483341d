"""What a participant's consent covers. Other code asks here before using data for a purpose."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import OuterRef, QuerySet, Subquery

from aftercrisis.participants.models import Participant
from aftercrisis.protocol import Protocol
from aftercrisis.recruitment.models import ConsentRecord


def current_consent(participant: Participant) -> ConsentRecord | None:
    """The latest consent given, whatever its version."""
    return ConsentRecord.objects.filter(participant=participant).order_by("-taken_on", "-pk").first()


def needs_reconsent(participant: Participant, protocol: Protocol) -> bool:
    consent = current_consent(participant)
    return consent is not None and consent.version != protocol.consent.version


def consent_covers(participant: Participant, item: str) -> bool:
    """Whether the latest consent agrees to the item (False with no consent at all)."""
    consent = current_consent(participant)
    return bool(consent and consent.items.get(item, False))


def missing_required_items(agreed: Mapping[str, bool], protocol: Protocol) -> list[str]:
    """Required items of the current form that the participant has not agreed to on that form, from their
    answers on it (none when they have not signed it)."""
    return [i.code for i in protocol.consent.items if i.required and not agreed.get(i.code, False)]


def consenting_to(item: str, participants: QuerySet[Participant] | None = None) -> QuerySet[Participant]:
    """Participants whose latest consent agrees to the item, e.g. 'routine_data_linkage' before linkage."""
    latest = (
        ConsentRecord.objects.filter(participant=OuterRef("participant"))
        .order_by("-taken_on", "-pk")
        .values("pk")
    )
    agreeing = ConsentRecord.objects.filter(pk=Subquery(latest[:1]), **{f"items__{item}": True})
    rows = Participant.objects.all() if participants is None else participants
    return rows.filter(pk__in=agreeing.values("participant"))
