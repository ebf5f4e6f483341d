"""The demo's follow-up and outcomes: questionnaire returns, acute-care episodes from two sources, SAEs.

Item answers are generated to add up to the simulator's QPR-15 and CSQ-8 totals, with a few items
left unanswered as on real returns; the other instruments get plausible answers.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import pandas as pd
from django.db import transaction

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor
from aftercrisis.accounts.roles import Role
from aftercrisis.audit import record_creation
from aftercrisis.demo.loader import Demo, _researcher_for
from aftercrisis.followup.instruments import instrument
from aftercrisis.followup.models import VisitOutcome, VisitRecord
from aftercrisis.followup.services import QuestionnaireReturn, enter_questionnaires
from aftercrisis.outcomes.models import EpisodeSource, SeriousAdverseEvent
from aftercrisis.outcomes.selectors import overlaps_for
from aftercrisis.outcomes.services import EpisodeDraft, reconcile, record_death, record_episodes, sign_off_sae
from aftercrisis.participants.models import CauseOfDeath, Participant

ITEM_MISSING = 0.02  # share of items left unanswered on a returned questionnaire
TOTALS = {"baseline": "qpr_0", "m4": "qpr_4m", "m18": "qpr_18m"}


def _spread(total: int, n: int, low: int, high: int, rng: random.Random) -> list[int]:
    """n item values in [low, high] adding up to total (clipped to the possible range)."""
    total = max(n * low, min(n * high, total))
    base, extra = divmod(total - n * low, n)
    values = [low + base + (1 if i < extra else 0) for i in range(n)]
    rng.shuffle(values)
    return values


def _answers(code: str, target: float | None, rng: random.Random) -> dict[str, int | None]:
    inst = instrument(code)
    items = inst.scored_items
    low, high = items[0].minimum, items[0].maximum
    if target is not None and not math.isnan(target):
        values = _spread(round(target), len(items), low, high, rng)
    else:
        values = [rng.randint(low, high) for _ in items]
    answers: dict[str, int | None] = {
        item.code: (None if rng.random() < ITEM_MISSING else v) for item, v in zip(items, values, strict=True)
    }
    if code == "eq5d3l":
        answers["vas"] = None if rng.random() < 0.1 else rng.randrange(20, 96, 5)
    return answers


def _researcher(demo: Demo, participant: Participant) -> tuple[User, Actor]:
    user = _researcher_for(participant.site, demo.users)
    sites = frozenset(a.site_id for a in user.role_assignments.all() if a.site_id is not None)
    return user, Actor(user_id=user.pk, role=Role.RESEARCHER, site_ids=sites)


def _questionnaires(demo: Demo) -> None:
    people = demo.trial.participants.set_index("participant")
    completed = (
        VisitRecord.objects.filter(participant__in=demo.participants.values(), outcome=VisitOutcome.COMPLETED)
        .select_related("participant", "recorded_by")
        .order_by("participant_id", "pk")
    )  # the answers drawn in one order on every database
    index = {p.pk: i for i, p in demo.participants.items()}
    returns = []
    for record in completed:
        who = index[record.participant_id]
        for code in demo.protocol.visit(record.visit).instruments:
            column = {"qpr15": TOTALS[record.visit], "csq8": "csq8_4m"}.get(code)
            target = None if column is None else float(people.at[who, column])  # type: ignore[arg-type]
            returns.append(
                QuestionnaireReturn(
                    record.participant,
                    record.visit,
                    code,
                    _answers(code, target, demo.rng),
                    method=record.method or "post",
                    completed_on=record.on,
                    by=record.recorded_by,
                )
            )
    enter_questionnaires(demo.protocol, returns)


def _date(value: object) -> dt.date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def _episodes(demo: Demo) -> None:
    episodes = demo.trial.episodes
    # Each researcher enters the episodes of their sites' participants together.
    entered: dict[User, tuple[Actor, list[EpisodeDraft]]] = {}
    for index, rows in episodes.groupby("participant"):
        participant = demo.participants.get(int(index))  # type: ignore[arg-type]
        if participant is None:
            continue
        user, actor = _researcher(demo, participant)
        entered.setdefault(user, (actor, []))[1].extend(
            EpisodeDraft(
                participant,
                str(r.setting),
                _date(r.start),
                None if _date(r.end) > demo.today else _date(r.end),
                str(r.admission_type) if r.setting == "inpatient_ward" else "",
                EpisodeSource.CLINICAL_RECORDS
                if r.source == "clinical_records"
                else EpisodeSource.SELF_REPORT,
                "",
                "demo",
            )
            for r in rows.itertuples()
            if _date(r.start) <= demo.today
        )
    for user, (actor, drafts) in entered.items():
        record_episodes(actor, demo.protocol, drafts, by=user, today=demo.today)
    # Half of the self-reports that match a clinical record are reconciled; the rest wait on the page.
    manager = demo.users["manager"]
    for overlap in overlaps_for(Actor(user_id=manager.pk, role=Role.TRIAL_MANAGER, site_ids=None)):
        if demo.rng.random() < 0.5:
            kept = overlap.first if overlap.first.source == EpisodeSource.CLINICAL_RECORDS else overlap.second
            user, _ = _researcher(demo, overlap.first.participant)
            reconcile(
                overlap.first,
                overlap.second,
                "same",
                kept=kept,
                by=user,
                reason="same stay; dates from records",
            )


def _safety(demo: Demo) -> None:
    people = demo.trial.participants
    causes = [CauseOfDeath.NATURAL, CauseOfDeath.SUICIDE, CauseOfDeath.ACCIDENT, CauseOfDeath.UNDETERMINED]
    for row in people.itertuples():
        if pd.isna(row.died_on):  # type: ignore[arg-type]
            continue
        participant = demo.participants[int(row.participant)]  # type: ignore[arg-type]
        user, actor = _researcher(demo, participant)
        died_on = _date(row.died_on)
        if died_on <= demo.today:
            record_death(
                actor, participant, died_on=died_on, cause=demo.rng.choice(causes), by=user, today=demo.today
            )
    clinical = demo.trial.episodes[demo.trial.episodes["source"] == "clinical_records"]
    for row in clinical[clinical["setting"] == "inpatient_ward"].itertuples():
        detained = row.admission_type == "detained"
        if not detained and demo.rng.random() > 0.15:
            continue
        participant = demo.participants[int(row.participant)]  # type: ignore[arg-type]
        user, _ = _researcher(demo, participant)
        onset = _date(row.start)
        if onset > demo.today:
            continue
        record_creation(
            SeriousAdverseEvent(
                participant=participant,
                category="detention" if detained else "hospital_admission",
                onset=onset,
                description="Admitted to a psychiatric ward"
                + (" under the Mental Health Act." if detained else "."),
                seriousness="hospitalisation",
                relatedness="not_related",
                expectedness="expected",
                reported_by=user,
                reported_on=min(onset + dt.timedelta(days=demo.rng.randrange(1, 10)), demo.today),
            ),
            by=user,
            reason="serious adverse event reported",
        )
    chief = demo.users.get("chief")
    if chief is None:
        return
    actor = Actor(user_id=chief.pk, role=Role.CHIEF_INVESTIGATOR, site_ids=None)
    for sae in SeriousAdverseEvent.objects.filter(participant__in=demo.participants.values()).order_by(
        "onset"
    ):
        if demo.rng.random() < 0.7:
            on = min(sae.reported_on + dt.timedelta(days=demo.rng.randrange(1, 14)), demo.today)
            sign_off_sae(actor, demo.protocol, sae, {}, by=chief, on=on, reason="reviewed and signed off")


def extend(demo: Demo) -> None:
    with transaction.atomic():
        _questionnaires(demo)
        _episodes(demo)
        _safety(demo)
