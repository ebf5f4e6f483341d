"""An independent reference for the evaluation's cohort: plain pandas for the index events, exposure and
prior admissions, and the trial's own per-participant derivation (`outcomes.derivation`) for the outcomes,
applied one index event at a time with the discharge as day 0."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from aftercrisis.outcomes.derivation import Episode, History, Rules, derive

COMPARED = (
    "person_id", "episode_id", "team", "age", "prior_admissions", "contacts", "exposed", "follow_up_days",
    "event", "days", "readmitted", "died", "n_readmissions", "bed_days",
)  # fmt: skip


def _read(directory: Path, name: str) -> pd.DataFrame:
    path = directory / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else pd.read_csv(directory / f"{name}.csv")


def _date(value) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()


def reference_cohort(
    directory: Path, *, settings: set[str], residential: set[str], data_end: dt.date,
    horizon: int = 365, exposure_days: int = 30, min_contacts: int = 1,
) -> pd.DataFrame:  # fmt: skip
    persons = _read(directory, "persons").set_index("person_id")
    crisis = _read(directory, "crisis_episodes")
    acute = _read(directory, "acute_episodes")
    again = _read(directory, "crt_reacceptances")
    contacts = _read(directory, "peer_support_contacts")
    deaths = _read(directory, "deaths").set_index("person_id")["died"]

    crisis = crisis[crisis["discharged"].notna()].sort_values(["person_id", "discharged", "episode_id"])
    index = crisis.groupby("person_id", sort=False).head(1)

    episodes: dict[int, list[Episode]] = {}
    for row in acute[acute["setting"].isin(settings)].itertuples():
        episodes.setdefault(row.person_id, []).append(
            Episode(row.setting, _date(row.admitted), _date(row.discharged))
        )
    if "crt_reacceptance" in settings:
        for row in again.itertuples():
            on = _date(row.accepted)
            episodes.setdefault(row.person_id, []).append(Episode("crt_reacceptance", on, on))
    attended: dict[int, list[dt.date]] = {}
    for row in contacts[contacts["attended"].astype(bool)].itertuples():
        attended.setdefault(row.person_id, []).append(_date(row.contact_date))

    rules = Rules(horizon_days=horizon, settings=frozenset(settings), residential=frozenset(residential))
    rows = []
    for row in index.itertuples():
        day0, accepted = _date(row.discharged), _date(row.referral_accepted)
        died = _date(deaths.get(row.person_id))
        review_end = data_end if (data_end - day0).days < horizon else None
        outcome = derive(
            History(
                str(row.person_id), day0, episodes.get(row.person_id, ()), died_on=died, review_end=review_end
            ),
            rules,
        )
        # Spells for prior admissions: the same merging, before the index referral.
        intervals = sorted(
            (e.start, e.end or data_end + dt.timedelta(days=1)) for e in episodes.get(row.person_id, ())
        )
        starts, reach = [], None
        for start, stop in intervals:
            if reach is None or start > reach:
                starts.append(start)
                reach = stop
            else:
                reach = max(reach, stop)
        prior = sum(1 for s in starts if accepted - dt.timedelta(days=730) <= s < accepted)
        n_contacts = sum(1 for d in attended.get(row.person_id, ()) if 0 <= (d - day0).days <= exposure_days)
        end_day = min(horizon, (data_end - day0).days, (died - day0).days if died else horizon)
        rows.append(
            {
                "person_id": row.person_id,
                "episode_id": row.episode_id,
                "team": row.team,
                "age": day0.year - persons.at[row.person_id, "birth_year"],
                "prior_admissions": prior,
                "contacts": n_contacts,
                "exposed": n_contacts >= min_contacts,
                "follow_up_days": max(end_day, 0),
                "event": bool(outcome.readmission_event),
                "days": outcome.days_to_readmission,
                "readmitted": outcome.readmitted_1y,
                "died": outcome.died_1y,
                "n_readmissions": outcome.n_readmissions_1y,
                "bed_days": outcome.acute_bed_days_1y,
            }
        )
    return pd.DataFrame(rows).sort_values(["person_id", "episode_id"]).reset_index(drop=True)
