"""The demo's screening log: people screened, not approached, declining, and counted anonymously,
and the screening, consent and baseline of everyone the demo randomises, through the services."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.policy import Actor
from aftercrisis.accounts.roles import Role
from aftercrisis.audit import record_creations
from aftercrisis.demo.people import TestNhsNumbers, identity
from aftercrisis.followup.models import VisitMethod, VisitOutcome, VisitRecord
from aftercrisis.participants.models import Identity, Participant
from aftercrisis.participants.services import Referral, register_participants
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.unblinding import decide_unblinding, request_unblinding
from aftercrisis.recruitment.models import DeclineReason, NotApproachedReason, ScreeningOutcome
from aftercrisis.recruitment.services import (
    Consented,
    Screened,
    ScreenFailureCount,
    record_consents,
    record_decline,
    record_screen_failure_counts,
    record_screenings,
)

if TYPE_CHECKING:
    from aftercrisis.demo.loader import Demo


def _researcher_for(site: Site, users: dict[str, User]) -> User:
    from aftercrisis.demo.loader import _researcher_for as find

    return find(site, users)


def researcher_actor(researcher: User) -> Actor:
    return Actor(user_id=researcher.pk, role=Role.RESEARCHER, site_ids=None)


def eligible_answers(protocol: Protocol) -> dict[str, bool]:
    answers = {c.code: True for c in protocol.eligibility.inclusion}
    answers.update({c.code: False for c in protocol.eligibility.exclusion})
    return answers


def screened(participant: Participant, protocol: Protocol, researcher: User, on: dt.date) -> Screened:
    """Eligible on every criterion."""
    return Screened(researcher_actor(researcher), participant, eligible_answers(protocol), on, researcher)


def screen(participant: Participant, protocol: Protocol, researcher: User, on: dt.date) -> None:
    record_screenings(protocol, [screened(participant, protocol, researcher, on)])


def consented(
    participant: Participant, protocol: Protocol, researcher: User, on: dt.date, *, optional: bool = True
) -> Consented:
    items = {i.code: i.required or optional for i in protocol.consent.items}
    return Consented(researcher_actor(researcher), participant, items, True, on, researcher)


def consent(
    participant: Participant, protocol: Protocol, researcher: User, on: dt.date, *, optional: bool = True
) -> None:
    record_consents(protocol, [consented(participant, protocol, researcher, on, optional=optional)])


def baselines(visits: Sequence[tuple[Participant, User, dt.date]]) -> None:
    """Baseline questionnaires completed, each with the researcher who saw them and when."""
    record_creations(
        [
            VisitRecord(
                participant=participant,
                visit="baseline",
                outcome=VisitOutcome.COMPLETED,
                method=VisitMethod.IN_PERSON,
                on=on,
                recorded_by=researcher,
            )
            for participant, researcher, on in visits
        ],
        by=[researcher for _, researcher, _ in visits],
        reason="baseline questionnaires completed",
    )


def baseline(participant: Participant, researcher: User, on: dt.date) -> None:
    baselines([(participant, researcher, on)])


def enrol(participant: Participant, protocol: Protocol, researcher: User, on: dt.date) -> None:
    """Screened eligible, consented on every item and baseline complete, all on one day."""
    screen(participant, protocol, researcher, on)
    consent(participant, protocol, researcher, on)
    baseline(participant, researcher, on)


def extend(demo: Demo) -> None:
    """The screening log around the randomised: people not eligible, not approached or declining
    (some referred by name, most counted anonymously), and one emergency unblinding of each outcome."""
    protocol, rng = demo.protocol, demo.rng
    manager = demo.users["manager"]
    sites = {s.code: s for s in Site.objects.all()}
    dates = sorted(p.referred_on for p in demo.participants.values())
    start, end = dates[0], dates[-1]
    span = max((end - start).days, 1)
    numbers = TestNhsNumbers(random.Random(rng.random()))
    numbers._used.update(Identity.objects.values_list("nhs_number", flat=True))  # never reuse the loader's
    codes = sorted(sites)
    n = len(demo.participants)
    criteria = [c.code for c in protocol.eligibility.inclusion + protocol.eligibility.exclusion]
    # Named referrals that went no further: about one for every eight randomised, drawn first and
    # then referred, screened and declined together.
    referrals: list[Referral] = []
    screenings: list[tuple[User, dt.date, dict[str, bool], str | None, str]] = []
    declines: dict[int, str] = {}  # position among the referrals -> reason
    for k in range(max(n // 8, 3)):
        site = sites[rng.choice(codes)]
        researcher = _researcher_for(site, demo.users)
        referred_on = start + dt.timedelta(days=rng.randrange(span))
        sex = rng.choice(["female", "male"])
        referrals.append(
            Referral(
                site=site,
                referred_on=referred_on,
                by=demo.users[f"referrer.{site.code.lower()}"],
                identity=identity(
                    rng, numbers, sex=sex, age=rng.randrange(19, 70), on=referred_on, site=site.code
                ),
                research={"sex": sex},
            )
        )
        on = referred_on + dt.timedelta(days=rng.randrange(1, 6))
        answers = eligible_answers(protocol)
        roll = rng.random()
        if roll < 0.3:
            failed = rng.choice(criteria)
            answers[failed] = not answers[failed]
            screenings.append((researcher, on, answers, None, ""))
        elif roll < 0.5:
            reason = rng.choice(NotApproachedReason.values)
            screenings.append((researcher, on, answers, ScreeningOutcome.NOT_APPROACHED, reason))
        else:
            screenings.append((researcher, on, answers, None, ""))
            declines[k] = rng.choice(DeclineReason.values)
    with transaction.atomic():
        referred = register_participants(referrals)
        record_screenings(
            protocol,
            [
                Screened(researcher_actor(researcher), p, answers, on, researcher, outcome, reason)
                for p, (researcher, on, answers, outcome, reason) in zip(referred, screenings, strict=True)
            ],
        )
        for k, reason in declines.items():
            researcher = screenings[k][0]
            record_decline(researcher_actor(researcher), referred[k], reason=reason, by=researcher)
    # People screened from the caseload and never referred: a count a week per site, no identity.
    weights = {"not_eligible": 0.6, "not_approached": 0.15, "declined": 0.25}
    counted: dict[User, list[ScreenFailureCount]] = {}
    for week in range(0, span, 7):
        for code in codes:
            site = sites[code]
            researcher = _researcher_for(site, demo.users)
            outcome = rng.choices(list(weights), list(weights.values()))[0]
            reason = rng.choice(
                criteria[:1] + criteria[2:]
                if outcome == "not_eligible"
                else NotApproachedReason.values
                if outcome == "not_approached"
                else DeclineReason.values
            )
            counted.setdefault(researcher, []).append(
                ScreenFailureCount(
                    site, start + dt.timedelta(days=week), outcome, reason, rng.randrange(1, 4)
                )
            )
    for researcher, counts in counted.items():
        record_screen_failure_counts(researcher_actor(researcher), protocol, counts, by=researcher)
    # Emergency unblinding: one approved (asked by a researcher who no longer assesses outcomes) and one refused.
    randomised = sorted(demo.participants.values(), key=lambda p: p.trial_id)
    asker = demo.users["researcher3"]
    asking = Actor(user_id=asker.pk, role=Role.RESEARCHER, site_ids=None)
    deciding = Actor(user_id=manager.pk, role=Role.TRIAL_MANAGER, site_ids=None)
    for p, approve in [(randomised[-1], True), (randomised[-2], False)]:
        # Past requests: their e-mails went at the time.
        request = request_unblinding(
            asking, p, reason="Admitted to A&E; the treating team asked", by=asker, notify=False
        )
        decide_unblinding(deciding, request, approve=approve, note="", by=manager, notify=False)
