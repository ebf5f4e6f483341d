"""Load the demo trial through the services, exactly as staff would enter it.

The simulated trial is placed in time so that one-year outcomes are complete today and the
18-month follow-up is under way, which gives every role's home page real work to show.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import prefetch_related_objects

from aftercrisis.accounts.models import Site, User
from aftercrisis.accounts.policy import Actor
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.services import create_staff, sync_sites
from aftercrisis.audit import record_creations
from aftercrisis.demo import DEMO_SEED
from aftercrisis.demo.people import TestNhsNumbers, identity
from aftercrisis.demo.recruitment import baselines, consented, researcher_actor, screened
from aftercrisis.design.simulate import SimulatedTrial, TrialConfig, simulate_trial
from aftercrisis.design.simulate import Site as SimulatedSite
from aftercrisis.followup.models import VisitOutcome, VisitRecord
from aftercrisis.followup.schedule import follow_up_windows
from aftercrisis.lock.services import asked_once
from aftercrisis.participants.models import Participant, Status, WithdrawalLevel
from aftercrisis.participants.services import Referral, move_all, register_participants
from aftercrisis.participants.withdrawals import withdraw
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.engine import Slot, permuted_blocks
from aftercrisis.randomisation.services import load_allocation_list, randomise_all
from aftercrisis.recruitment.services import record_consents, record_screenings

DEMO_PASSWORD = "demo-crisis-2026"

# Days between the end of recruitment and today: past one year, inside the 18-month windows.
RECRUITMENT_ENDED_DAYS_AGO = 420
SPARE_SLOTS_PER_SITE = 40
PIPELINE = [(Status.REFERRED, 6), (Status.SCREENED, 4), (Status.CONSENTED, 5), (Status.RANDOMISED, 12)]
RANDOMISED_AT_ONCE = 100


@dataclass(frozen=True)
class Login:
    role: Role
    username: str
    name: str
    where: str


def _staff(protocol: Protocol, sites: list[Site]) -> tuple[list[Login], dict[str, User]]:
    logins: list[Login] = []
    users: dict[str, User] = {}
    # Hashing is slow by design; every demo login has the same published password, so one hash serves.
    password = make_password(DEMO_PASSWORD)

    def add(username: str, first: str, last: str, role: Role, at: Sequence[Site | None]) -> None:
        users[username] = create_staff(
            username=username,
            password=password,
            hashed=True,
            first_name=first,
            last_name=last,
            email=f"{username}@example.org",
            roles=[(role, s) for s in at],
        )
        where = "all sites" if at == [None] else ", ".join(s.code for s in at if s)
        logins.append(Login(role, username, f"{first} {last}", where))

    add("manager", "Morgan", "Ellis", Role.TRIAL_MANAGER, [None])
    add("statistician", "Sam", "Okoye", Role.STATISTICIAN, [None])
    add("chief", "Cora", "Ibbotson", Role.CHIEF_INVESTIGATOR, [None])
    add("lists", "Lee", "Varga", Role.RANDOMISATION_STATISTICIAN, [None])
    researcher_names = [("Rachel", "Ng"), ("Ravi", "Desai"), ("Ruth", "Adams")]
    for i, (first, last) in enumerate(researcher_names):
        add(f"researcher{i + 1}", first, last, Role.RESEARCHER, sites[2 * i : 2 * i + 2])
    psw_names = [
        ("Pat", "Quinn"),
        ("Paula", "Mendes"),
        ("Peter", "Osei"),
        ("Pippa", "Hart"),
        ("Priya", "Lal"),
        ("Paul", "Dunn"),
    ]
    for site, (first, last) in zip(sites, psw_names, strict=True):
        add(f"psw.{site.code.lower()}", first, last, Role.PEER_SUPPORT_WORKER, [site])
    referrer_names = [
        ("Chris", "Fenwick"),
        ("Carla", "Moss"),
        ("Cyril", "Banda"),
        ("Cath", "Doyle"),
        ("Colin", "Reid"),
        ("Chidi", "Obi"),
    ]
    for site, (first, last) in zip(sites, referrer_names, strict=True):
        add(f"referrer.{site.code.lower()}", first, last, Role.REFERRER, [site])
    return logins, users


def _simulate(protocol: Protocol, today: dt.date, seed: int, size: int | None) -> SimulatedTrial:
    span = protocol.trial.recruitment_end - protocol.trial.recruitment_start
    end = today - dt.timedelta(days=RECRUITMENT_ENDED_DAYS_AGO)
    config = TrialConfig(
        n=size or TrialConfig.n,
        sites=tuple(
            SimulatedSite(s.code, w)
            for s, w in zip(protocol.sites, (1.3, 1.1, 1.0, 0.9, 1.0, 0.7), strict=True)
        ),
        recruitment_start=end - span,
        recruitment_end=end,
        max_sessions=protocol.intervention.max_sessions,
    )
    return simulate_trial(config, seed=seed)


def _allocation_lists(trial: SimulatedTrial, protocol: Protocol, sites: dict[str, Site], seed: int) -> None:
    """The simulated arms become each site's concealed list, followed by spare positions for new participants."""
    arms = [(a.code, a.ratio) for a in protocol.arms]
    for i, (code, site) in enumerate(sorted(sites.items())):
        simulated = trial.participants.loc[trial.participants["site"] == code, "arm"].tolist()
        # An imported list: the arm order is known, its block structure is not.
        slots = [Slot(k + 1, None, None, arm) for k, arm in enumerate(simulated)]
        spare = permuted_blocks(
            arms, protocol.randomisation.block_sizes, SPARE_SLOTS_PER_SITE, seed + 1000 + i
        )
        load_allocation_list(site, slots + spare)


def _date(value: object) -> dt.date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


@asked_once()  # one unit of work: whether the database is locked is asked as it begins
def load_demo(
    protocol: Protocol,
    *,
    seed: int = DEMO_SEED,
    today: dt.date | None = None,
    size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Login]:
    """Load the whole demo trial (`size` randomised participants, CORE's 441 by default); return the logins."""
    today = today or dt.date.today()
    rng = random.Random(seed)
    numbers = TestNhsNumbers(rng)
    with transaction.atomic():
        site_list = sync_sites(protocol)
        sites = {s.code: s for s in site_list}
        logins, users = _staff(protocol, site_list)
    manager = users["manager"]
    actor = Actor(user_id=manager.pk, role=Role.TRIAL_MANAGER, site_ids=None)
    trial = _simulate(protocol, today, seed, size)
    _allocation_lists(trial, protocol, sites, seed)

    people = trial.participants
    total = len(people) + sum(n for _, n in PIPELINE)
    rows = list(people.itertuples(index=False))
    # Everyone's course is drawn first, in the order the simulated trial lists them, so that they can
    # all be referred, screened, consented and seen at baseline at once, then randomised in that order,
    # and their follow-up written together.
    plans = [_plan(row, protocol, sites, users, rng, numbers, today) for row in rows]
    with transaction.atomic():
        referred = register_participants([plan.referral for plan in plans])
        enrolled = list(zip(referred, plans, strict=True))
        record_screenings(
            protocol,
            [
                screened(p, protocol, plan.researcher, p.referred_on + dt.timedelta(days=1))
                for p, plan in enrolled
            ],
        )
        record_consents(
            protocol,
            [
                consented(p, protocol, plan.researcher, plan.randomised_on, optional=plan.optional_consent)
                for p, plan in enrolled
            ],
        )
        baselines([(p, plan.researcher, plan.randomised_on) for p, plan in enrolled])
    # Each from their stratum's next position, as one at a time would; a hundred at a time, so that
    # progress shows.
    for start in range(0, len(enrolled), RANDOMISED_AT_ONCE):
        batch = enrolled[start : start + RANDOMISED_AT_ONCE]
        randomise_all(
            actor, [(p, plan.randomised_on) for p, plan in batch], protocol, by=manager, notify=False
        )
        if progress:
            progress(start + len(batch), total)
    randomised = {int(row.participant): p for row, p in zip(rows, referred, strict=True)}  # type: ignore[arg-type]
    with transaction.atomic():
        _follow_up(enrolled, protocol, today)
    _pipeline(protocol, sites, users, actor, rng, numbers, today, progress, done=len(people), total=total)
    demo = Demo(protocol=protocol, trial=trial, participants=randomised, users=users, rng=rng, today=today)
    for extend in EXTENSIONS:
        extend(demo)
    return logins


@dataclass(frozen=True)
class Demo:
    """What each capability's demo extension builds on: the simulated truth and who it became."""

    protocol: Protocol
    trial: SimulatedTrial
    participants: dict[int, Participant]  # simulated participant index -> registry record
    users: dict[str, User]  # demo usernames -> staff
    rng: random.Random
    today: dt.date


# Each capability adds its part of the demo here, through its own services: Callable[[Demo], None].
EXTENSIONS: list[Callable[[Demo], None]] = []


@dataclass(frozen=True)
class _Plan:
    """A simulated participant's course, drawn before any of it is written."""

    referral: Referral
    researcher: User
    randomised_on: dt.date
    optional_consent: bool
    visits: list[tuple[VisitRecord, str]]  # the records without their participant, and the reason
    review_end: dt.date
    withdrew: bool


def _plan(
    row: object,
    protocol: Protocol,
    sites: dict[str, Site],
    users: dict[str, User],
    rng: random.Random,
    numbers: TestNhsNumbers,
    today: dt.date,
) -> _Plan:
    r = row  # a namedtuple of the simulated participant
    site = sites[r.site]  # type: ignore[attr-defined]
    randomised_on = _date(r.randomised_on)  # type: ignore[attr-defined]
    referred_on = randomised_on - dt.timedelta(days=rng.randrange(3, 21))
    referral = Referral(
        site=site,
        referred_on=referred_on,
        by=users[f"referrer.{site.code.lower()}"],
        identity=identity(rng, numbers, sex=r.sex, age=int(r.age), on=referred_on, site=site.code),  # type: ignore[attr-defined]
        research={
            "sex": r.sex,  # type: ignore[attr-defined]
            "ethnicity": r.ethnicity,  # type: ignore[attr-defined]
            "prior_admissions": int(r.prior_admissions),  # type: ignore[attr-defined]
            "age_at_entry": int(r.age),  # type: ignore[attr-defined]
        },
    )
    researcher = _researcher_for(site, users)
    optional_consent = rng.random() < 0.9

    review_end = _date(r.record_review_end)  # type: ignore[attr-defined]
    died = not pd.isna(r.died_on)  # type: ignore[attr-defined]
    withdrew = not died and review_end < randomised_on + dt.timedelta(
        days=protocol.outcomes.primary.horizon_days
    )
    scores = {"m4": r.qpr_4m, "m18": r.qpr_18m}  # type: ignore[attr-defined]
    visits: list[tuple[VisitRecord, str]] = []
    for window in follow_up_windows(protocol, randomised_on):
        if withdrew and window.opens > review_end:
            break
        if died and window.opens > review_end:
            visits.append(
                (
                    VisitRecord(
                        visit=window.code,
                        outcome=VisitOutcome.NOT_POSSIBLE,
                        on=review_end,
                        recorded_by=researcher,
                    ),
                    "participant died before the visit window",
                )
            )
            continue
        answered = not (isinstance(scores.get(window.code), float) and math.isnan(scores[window.code]))
        if window.closes < today or (answered and window.opens <= today and rng.random() < 0.5):
            on = min(window.due + dt.timedelta(days=rng.randrange(-7, 30)), today)
            visits.append(
                (
                    VisitRecord(
                        visit=window.code,
                        outcome=VisitOutcome.COMPLETED if answered else VisitOutcome.MISSED,
                        method="in_person"
                        if answered and rng.random() < 0.6
                        else ("phone" if answered else ""),
                        on=on if answered else window.closes,
                        recorded_by=researcher,
                    ),
                    "follow-up visit",
                )
            )
    return _Plan(referral, researcher, randomised_on, optional_consent, visits, review_end, withdrew)


def _follow_up(enrolled: list[tuple[Participant, _Plan]], protocol: Protocol, today: dt.date) -> None:
    """The follow-up visits of the randomised, then their withdrawals and completions."""
    visits = [(participant, plan, *visit) for participant, plan in enrolled for visit in plan.visits]
    for participant, _, record, _ in visits:
        record.participant = participant
    record_creations(
        [record for _, _, record, _ in visits],
        by=[plan.researcher for _, plan, _, _ in visits],
        reason=[reason for _, _, _, reason in visits],
    )
    completed = []
    for participant, plan in enrolled:
        if plan.withdrew:
            withdraw(
                researcher_actor(plan.researcher),
                participant,
                protocol,
                level=WithdrawalLevel.ALL_DATA,
                on=plan.review_end,
                reason="no longer wishes to take part",
                by=plan.researcher,
            )
        elif all(w.closes < today for w in follow_up_windows(protocol, plan.randomised_on)):
            completed.append((participant, plan.researcher))
    move_all(
        [(participant, Status.COMPLETED) for participant, _ in completed],
        by=[researcher for _, researcher in completed],
        reason="follow-up complete",
    )


def _researcher_for(site: Site, users: dict[str, User]) -> User:
    researchers = [u for name, u in users.items() if name.startswith("researcher")]
    prefetch_related_objects(researchers, "role_assignments")  # read once, kept on the users
    return next(u for u in researchers if any(a.site_id == site.pk for a in u.role_assignments.all()))


def _pipeline(
    protocol: Protocol,
    sites: dict[str, Site],
    users: dict[str, User],
    actor: Actor,
    rng: random.Random,
    numbers: TestNhsNumbers,
    today: dt.date,
    progress: Callable[[int, int], None] | None,
    *,
    done: int,
    total: int,
) -> None:
    """Recent referrals on their way to randomisation, and a few recently randomised: each drawn first,
    then all referred, screened, consented, seen at baseline and randomised together, as far as each got."""
    codes = sorted(sites)
    drawn: list[tuple[str, Referral, User, dt.date]] = []  # status, referral, researcher, day seen
    for status, count in PIPELINE:
        for _ in range(count):
            site = sites[rng.choice(codes)]
            # Recently randomised people give peer support workers open support windows.
            referred_on = today - dt.timedelta(
                days=rng.randrange(30, 110) if status == Status.RANDOMISED else rng.randrange(1, 20)
            )
            sex = rng.choice(["female", "male"])
            referral = Referral(
                site=site,
                referred_on=referred_on,
                by=users[f"referrer.{site.code.lower()}"],
                identity=identity(
                    rng, numbers, sex=sex, age=rng.randrange(19, 70), on=referred_on, site=site.code
                ),
                research={
                    "sex": sex,
                    "prior_admissions": rng.randrange(0, 4),
                    "ethnicity": rng.choice(["white", "white", "white", "black", "asian", "mixed", "other"]),
                },
            )
            on = referred_on + dt.timedelta(days=rng.randrange(2, 10))
            drawn.append((status, referral, _researcher_for(site, users), on))
    with transaction.atomic():
        referred = register_participants([referral for _, referral, _, _ in drawn])
        people = [(p, *d) for p, d in zip(referred, drawn, strict=True)]
        record_screenings(
            protocol,
            [
                screened(p, protocol, researcher, r.referred_on + dt.timedelta(days=1))
                for p, status, r, researcher, _ in people
                if status != Status.REFERRED
            ],
        )
        agreed = [
            (p, researcher, min(on, today))
            for p, status, _, researcher, on in people
            if status in (Status.CONSENTED, Status.RANDOMISED)
        ]
        record_consents(protocol, [consented(p, protocol, researcher, on) for p, researcher, on in agreed])
        baselines(agreed)
        randomise_all(
            actor,
            [(p, on) for p, status, _, _, on in people if status == Status.RANDOMISED],
            protocol,
            by=users["manager"],
            notify=False,
        )
    if progress:
        progress(done + len(drawn), total)


from aftercrisis.demo import intervention as _intervention  # noqa: E402  (it builds on Demo, defined above)

EXTENSIONS.append(_intervention.extend)

from aftercrisis.demo import followup as _followup  # noqa: E402

EXTENSIONS.append(_followup.extend)

from aftercrisis.demo import economics as _economics  # noqa: E402  (after the episodes it builds on)

EXTENSIONS.append(_economics.extend)

from aftercrisis.demo import recruitment as _recruitment  # noqa: E402

EXTENSIONS.append(_recruitment.extend)

from aftercrisis.demo import queries as _queries  # noqa: E402  (after the data it checks)

EXTENSIONS.append(_queries.extend)
