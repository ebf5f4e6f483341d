"""The analysis dataset from the live database: one row per randomised participant (intention to treat).

The columns are the analysis package's contract (`aftercrisis.analysis.schema`, codebook in
docs/analysis-dataset.md); outcomes come from the recorded acute-care episodes, deaths and
withdrawals through the outcome derivation, scores from the questionnaires, uptake from the
peer support sessions. Identity never enters it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pandas as pd
from django.db.models import Count, Q, Sum

from aftercrisis.analysis.consort import ArmFlow, Disposition
from aftercrisis.analysis.economics import counted
from aftercrisis.analysis.schema import COLUMNS as DATASET_COLUMNS
from aftercrisis.analysis.schema import resource_use_column
from aftercrisis.economics.models import ResourceUse
from aftercrisis.economics.selectors import days_from_episodes
from aftercrisis.followup.models import QuestionnaireResponse
from aftercrisis.intervention.models import SessionOutcome
from aftercrisis.outcomes.derivation import derive_all, reviewed_to, rules_for
from aftercrisis.outcomes.selectors import histories
from aftercrisis.participants.models import Participant, Withdrawal, WithdrawalLevel
from aftercrisis.protocol import Protocol
from aftercrisis.protocol.models import HealthEconomics
from aftercrisis.randomisation.selectors import analysis_arms

# (column, instrument, visit) for the scores in the dataset
SCORES = [
    ("qpr_0", "qpr15", "baseline"),
    ("qpr_4m", "qpr15", "m4"),
    ("qpr_18m", "qpr15", "m18"),
    ("csq8_4m", "csq8", "m4"),
    ("eq5d_0", "eq5d3l", "baseline"),
    ("eq5d_4m", "eq5d3l", "m4"),
    ("eq5d_18m", "eq5d3l", "m18"),
]


def analysis_dataset(protocol: Protocol, today: dt.date) -> pd.DataFrame:
    """Every randomised participant, in trial ID order, with the dataset's columns."""
    people = list(
        Participant.objects.filter(allocation__isnull=False)
        .select_related("site", "allocation")
        .annotate(
            sessions=Count(
                "peer_sessions", filter=Q(peer_sessions__outcome=SessionOutcome.HELD), distinct=True
            ),
            session_minutes=Sum(
                "peer_sessions__duration_minutes", filter=Q(peer_sessions__outcome=SessionOutcome.HELD)
            ),
            sessions_untimed=Count(
                "peer_sessions",
                filter=Q(peer_sessions__outcome=SessionOutcome.HELD, peer_sessions__duration_minutes=None),
                distinct=True,
            ),
        )
        .order_by("trial_id")
    )
    arms = analysis_arms(p.pk for p in people)
    recorded = reviewed_to(
        today, protocol, histories(Participant.objects.filter(pk__in=[p.pk for p in people]))
    )
    outcomes = {o.participant: o.as_row() for o in derive_all(recorded, rules_for(protocol))}
    scores: dict[tuple[int, str], float | None] = {}
    wanted = Q()
    for _, instrument, visit in SCORES:
        wanted |= Q(instrument=instrument, visit=visit)
    for pid, instrument, visit, total in QuestionnaireResponse.objects.filter(
        wanted, participant__in=[p.pk for p in people]
    ).values_list("participant_id", "instrument", "visit", "total"):
        column = next(c for c, i, v in SCORES if (i, v) == (instrument, visit))
        scores[(pid, column)] = total
    resources = resource_use(protocol, people, today)
    rows = []
    for p in people:
        intervention = arms[p.pk] == protocol.intervention.arm
        row = {
            "participant_id": p.trial_id,
            "site": p.site.code,
            "arm": arms[p.pk],
            "randomised_on": p.allocation.randomised_on.isoformat(),
            "age": p.age_at_entry,
            "sex": p.sex or None,
            "ethnicity": p.ethnicity or None,
            "prior_admissions": p.prior_admissions,
            **{k: v for k, v in outcomes[p.trial_id].items() if k != "participant"},
            **{column: scores.get((p.pk, column)) for column, _, _ in SCORES},
            "sessions_attended": p.sessions if intervention else 0,
            # an hour of peer support is costed only when every session held has its length
            "peer_support_hours": (
                0 if not intervention else None if p.sessions_untimed else (p.session_minutes or 0) / 60
            ),
            **resources.get(p.pk, {}),
        }
        rows.append(row)
    extra = [] if protocol.health_economics is None else resource_columns(protocol.health_economics)
    return pd.DataFrame(rows, columns=[c.name for c in DATASET_COLUMNS] + extra)


def resource_columns(economics: HealthEconomics) -> list[str]:
    return [resource_use_column(code, period) for code in counted(economics) for period in ("0", "1y")]


def resource_use(
    protocol: Protocol, people: list[Participant], today: dt.date
) -> dict[int, dict[str, int | None]]:
    """The resource-use columns of each participant: typed from the records, or, for days in an
    acute-care setting in the year after randomisation, from the episodes."""
    if protocol.health_economics is None:
        return {}
    found: dict[int, dict[str, int | None]] = {p.pk: {} for p in people}
    for pid, period, resource, units in ResourceUse.objects.filter(participant__in=people).values_list(
        "participant_id", "period", "resource", "units"
    ):
        found[pid][resource_use_column(resource, period)] = units
    for pid, days in days_from_episodes(protocol, people, today).items():
        found[pid].update({resource_use_column(code, "1y"): n for code, n in days.items()})
    return found


def disposition(
    protocol: Protocol,
    frame: pd.DataFrame,
    assessed: int | None,
    excluded: dict[str, int],
    *,
    labels_for: dict[str, str],
    blinded: bool,
) -> Disposition:
    """The CONSORT flow after randomisation, counted from the dataset and the withdrawal records."""
    withdrawn = set(
        Withdrawal.objects.filter(level=WithdrawalLevel.ALL_DATA).values_list(
            "participant__trial_id", flat=True
        )
    )
    outcome = protocol.analysis.primary.outcome
    arms = []
    for code in labels_for:
        rows = frame.loc[frame["arm"] == code]
        unknown = rows.loc[rows[outcome].isna(), "participant_id"]
        lost = Counter(
            "withdrew from all further data" if pid in withdrawn else "one-year follow-up not yet complete"
            for pid in unknown
        )
        received = None
        not_received: dict[str, int] = {}
        if not blinded and code == protocol.intervention.arm:
            received = int((rows["sessions_attended"] >= 1).sum())
            not_received = {"attended no session": len(rows) - received}
        arms.append(
            ArmFlow(
                label=labels_for[code],
                allocated=len(rows),
                analysed=len(rows) - len(unknown),
                received=received,
                not_received=not_received,
                lost_to_follow_up=dict(sorted(lost.items())),
            )
        )
    return Disposition(randomised=len(frame), arms=(arms[0], arms[1]), assessed=assessed, excluded=excluded)
