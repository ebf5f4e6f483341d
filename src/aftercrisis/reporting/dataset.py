"""The analysis dataset from the live database: one row per randomised participant (intention to treat).

The columns are the analysis package's contract (`aftercrisis.analysis.schema`, codebook in
docs/analysis-dataset.md); outcomes come from the recorded acute-care episodes, deaths and
withdrawals through the outcome derivation, scores from the questionnaires, uptake from the
peer support sessions. Identity never enters it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

import pandas as pd
from django.db.models import Count, Q

from aftercrisis.analysis.consort import ArmFlow, Disposition
from aftercrisis.analysis.schema import COLUMNS as DATASET_COLUMNS
from aftercrisis.followup.models import QuestionnaireResponse
from aftercrisis.intervention.models import SessionOutcome
from aftercrisis.outcomes.derivation import History, Rules, derive_all
from aftercrisis.outcomes.selectors import histories
from aftercrisis.participants.models import Participant, Withdrawal, WithdrawalLevel
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.selectors import analysis_arms

# (column, instrument, visit) for the scores in the dataset
SCORES = [
    ("qpr_0", "qpr15", "baseline"),
    ("qpr_4m", "qpr15", "m4"),
    ("qpr_18m", "qpr15", "m18"),
    ("csq8_4m", "csq8", "m4"),
]


def rules_for(protocol: Protocol) -> Rules:
    return Rules(
        horizon_days=protocol.outcomes.primary.horizon_days,
        settings=frozenset(protocol.setting_codes),
        residential=frozenset(s.code for s in protocol.outcomes.acute_care_settings if s.residential),
    )


def reviewed_to(today: dt.date, protocol: Protocol, recorded: list[History]) -> list[History]:
    """Records are reviewed up to today for anyone whose year is not yet over."""
    horizon = dt.timedelta(days=protocol.outcomes.primary.horizon_days)
    return [
        h if h.randomised_on + horizon <= today else dataclasses.replace(h, review_end=today)
        for h in recorded
    ]


def analysis_dataset(protocol: Protocol, today: dt.date) -> pd.DataFrame:
    """Every randomised participant, in trial ID order, with the dataset's columns."""
    people = list(
        Participant.objects.filter(allocation__isnull=False)
        .select_related("site", "allocation")
        .annotate(
            sessions=Count(
                "peer_sessions", filter=Q(peer_sessions__outcome=SessionOutcome.HELD), distinct=True
            )
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
    rows = []
    for p in people:
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
            "sessions_attended": p.sessions if arms[p.pk] == protocol.intervention.arm else 0,
        }
        rows.append(row)
    return pd.DataFrame(rows, columns=[c.name for c in DATASET_COLUMNS])


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
