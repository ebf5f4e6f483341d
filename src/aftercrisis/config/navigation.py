"""The header menu: one entry per page the acting role may open."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from aftercrisis.accounts.policy import Actor, Capability


@dataclass(frozen=True)
class NavItem:
    href: str
    text: str


MENU = [
    (Capability.VIEW_RECRUITMENT, "recruitment:by_site", "Recruitment"),
    (Capability.REFER, "recruitment:referrals", "Referrals"),
    (Capability.VIEW_PARTICIPANTS, "recruitment:screening_log", "Screening log"),
    (Capability.APPROVE_UNBLINDING, "randomisation:unblinding", "Unblinding"),
    (Capability.REQUEST_UNBLINDING, "randomisation:my_unblinding", "Unblinding requests"),
    (Capability.VIEW_WORKLIST, "followup:worklist", "Worklist"),
    (Capability.VIEW_SAFETY, "outcomes:safety", "Safety"),
    (Capability.RECORD_EPISODES, "outcomes:import", "Import episodes"),
    (Capability.VIEW_QUERIES, "queries:list", "Data queries"),
    (Capability.VIEW_CASELOAD, "intervention:caseload", "Caseload"),
    (Capability.VIEW_PARTICIPANTS, "participants:list", "Participants"),
    (Capability.VIEW_FIDELITY, "peer_support:fidelity", "Peer support"),
    (Capability.VIEW_REPORTS, "reporting:index", "Reports"),
    (Capability.VIEW_SITES, "sites", "Sites and staff"),
    (Capability.EXPORT_ALLOCATION_LIST, "randomisation:lists", "Allocation lists"),
]


def navigation(actor: Actor) -> list[NavItem]:
    return [NavItem(reverse(name), text) for capability, name, text in MENU if actor.can(capability)]
