"""The demo's data queries: the automatic checks run once, and a few queries raised by the trial manager
on the first site's participants, some answered by its researcher, one resolved."""

from __future__ import annotations

from django.db import transaction

from aftercrisis.accounts.policy import Actor
from aftercrisis.accounts.roles import Role
from aftercrisis.demo.loader import Demo
from aftercrisis.queries.models import QueryAction
from aftercrisis.queries.services import raise_query, respond, run_checks

# (field, query, answer or "" to leave it open, resolved by the trial manager)
MANUAL = [
    (
        "baseline.prior_admissions",
        "Four acute admissions in two years: please check against the notes.",
        "",
        False,
    ),
    (
        "visit.on",
        "The visit date is a Sunday: is it right?",
        "Yes: the participant asked to meet at the weekend.",
        False,
    ),
    (
        "episode.end",
        "The ward stay has no end date on the discharge summary we hold: has the participant left?",
        "Discharged on the date now entered, from the ward's records.",
        True,
    ),
]


def extend(demo: Demo) -> None:
    manager = demo.users["manager"]
    trial_manager = Actor(user_id=manager.pk, role=Role.TRIAL_MANAGER, site_ids=None)
    researcher = demo.users["researcher1"]
    sites = frozenset(researcher.role_assignments.values_list("site_id", flat=True))
    assessor = Actor(user_id=researcher.pk, role=Role.RESEARCHER, site_ids=sites)
    with transaction.atomic():
        run_checks(demo.protocol, demo.today)
        people = sorted(
            (p for p in demo.participants.values() if p.site_id in sites), key=lambda p: p.trial_id
        )
        for participant, (field, text, answer, resolved) in zip(people, MANUAL, strict=False):
            query = raise_query(trial_manager, demo.protocol, participant, field=field, text=text, by=manager)
            if answer:
                respond(
                    assessor, demo.protocol, query, action=QueryAction.ANSWERED, text=answer, by=researcher
                )
            if resolved:
                respond(
                    trial_manager,
                    demo.protocol,
                    query,
                    action=QueryAction.RESOLVED,
                    text="Thank you.",
                    by=manager,
                )
