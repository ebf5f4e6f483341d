"""A realistic synthetic routine data set with planted effects, so that the evaluation can be checked.

Each person has one discharge from a crisis team (some come back: a re-acceptance starts a new
crisis episode), prior acute care, perhaps an acute stay running over the discharge (the index
stay), perhaps peer support, and perhaps readmission, death or both. Exposure to peer support is
confounded: it is more likely for less deprived people with fewer prior admissions, who are also
less likely to be readmitted. Two effects are planted and written to `planted.json`:

- one team (`outlier_team`) has higher odds of readmission than its case-mix explains;
- exposure lowers the odds of readmission (`exposure_odds_ratio`, conditional on case-mix). The
  marginal effect the data hold, `risk_difference`, is computed from both potential outcomes of every
  person whose index discharge has a full year of data (first discharges), so an adjusted
  comparison can be checked against it.

Everything is vectorised; a million persons take seconds.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

EPOCH = dt.date(1970, 1, 1)
FIRST_REFERRAL = dt.date(2022, 1, 1)
LAST_REFERRAL = dt.date(2025, 3, 31)
DATA_END = dt.date(2025, 12, 31)
TEAMS = tuple(f"T{n:02d}" for n in range(1, 13))
OUTLIER_TEAM = "T07"
SETTINGS = ("inpatient_ward", "crisis_house", "acute_day_unit")
ETHNICITIES = ("White", "Asian or Asian British", "Black or Black British", "Mixed", "Other", "Not stated")


@dataclass(frozen=True)
class Planted:
    persons: int
    seed: int
    data_end: str
    outlier_team: str
    outlier_odds_ratio: float
    exposure_odds_ratio: float
    risk_difference: float  # sample average effect on one-year readmission, first discharges, full year

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


def _day(on: dt.date) -> int:
    return (on - EPOCH).days


def _expit(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=float)


class _Rows:
    """Columns of one table, gathered in pieces and joined once."""

    def __init__(self, *names: str) -> None:
        self.parts: dict[str, list[np.ndarray]] = {n: [] for n in names}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.parts[name].append(np.asarray(values))

    def table(
        self, dates: tuple[str, ...] = (), strings: dict[str, tuple[str, ...]] | None = None
    ) -> pa.Table:
        arrays = {}
        rows = max((sum(len(p) for p in pieces) for pieces in self.parts.values()), default=0)
        for name, pieces in self.parts.items():
            values = np.concatenate(pieces) if pieces else np.zeros(rows, dtype=np.int64)  # numbered later
            if name in dates:
                mask = values < 0  # negative: not known (an open episode)
                arrays[name] = pa.array(values.astype(np.int32), type=pa.int32(), mask=mask).cast(pa.date32())
            elif strings and name in strings:
                arrays[name] = pa.DictionaryArray.from_arrays(
                    pa.array(values.astype(np.int32)), pa.array(strings[name])
                ).cast(pa.string())
            elif values.dtype == bool:
                arrays[name] = pa.array(values, type=pa.bool_())
            else:
                arrays[name] = pa.array(values.astype(np.int64), type=pa.int64())
        return pa.table(arrays)


def synthesise(persons: int, out: Path, *, seed: int = 2018, csv: bool = False) -> Planted:
    """Write the six tables of the routine-data contract under OUT, and planted.json."""
    if persons < 1:
        raise ValueError("--persons must be at least 1")
    rng = np.random.default_rng(seed)
    n = persons
    end = _day(DATA_END)
    person_id = np.arange(1, n + 1, dtype=np.int64)

    team_share = rng.dirichlet(np.full(len(TEAMS), 8.0))
    team = rng.choice(len(TEAMS), size=n, p=team_share)
    coverage = np.linspace(-0.5, 0.5, len(TEAMS))[rng.permutation(len(TEAMS))]  # peer support reach
    team_effect = np.where(np.array(TEAMS) == OUTLIER_TEAM, np.log(2.0), 0.0)
    age = np.clip(rng.normal(40, 14, n), 18, 90).round().astype(np.int64)
    sex = rng.choice(3, size=n, p=[0.54, 0.45, 0.01])
    ethnicity = rng.choice(len(ETHNICITIES), size=n, p=[0.72, 0.09, 0.07, 0.04, 0.03, 0.05])
    decile = rng.choice(
        np.arange(1, 11), size=n, p=np.linspace(0.16, 0.04, 10) / np.linspace(0.16, 0.04, 10).sum()
    )
    accepted = rng.integers(_day(FIRST_REFERRAL), _day(LAST_REFERRAL) + 1, n)
    discharged = accepted + 7 + rng.gamma(2.0, 12.0, n).astype(np.int64)
    birth_year = (accepted // 365.25 + 1970).astype(np.int64) - age

    # Prior admissions in the two years before the referral, apart from each other so that each is a spell.
    prior = np.minimum(rng.poisson(0.25 + 0.06 * (10 - decile)), 8)
    episodes = _Rows("acute_episode_id", "person_id", "setting", "admitted", "discharged")
    who = np.repeat(np.arange(n), prior)
    order = np.arange(who.size) - np.repeat(np.cumsum(prior) - prior, prior)
    start = accepted[who] - 40 - 80 * order - rng.integers(0, 30, who.size)
    stop = start + 1 + np.minimum(rng.gamma(2.0, 8.0, who.size).astype(np.int64), 30)
    episodes.add(person_id=person_id[who], setting=rng.choice(3, who.size, p=[0.6, 0.25, 0.15]),
                 admitted=start, discharged=stop)  # fmt: skip
    # The index stay: admitted while under the crisis team, still in acute care at its discharge.
    stay = rng.random(n) < 0.12
    episodes.add(person_id=person_id[stay], setting=np.zeros(stay.sum(), dtype=np.int64),
                 admitted=accepted[stay] + 1, discharged=discharged[stay] + rng.integers(1, 20, stay.sum()))  # fmt: skip

    # Exposure, confounded by deprivation and prior admissions.
    p_exposed = _expit(-0.3 + coverage[team] + 0.1 * (decile - 5.5) - 0.3 * prior)
    exposed = rng.random(n) < p_exposed
    contacts = _Rows("contact_id", "person_id", "team", "contact_date", "attended")
    k = np.where(exposed, np.minimum(1 + rng.poisson(8, n), 10), 0)  # up to ten sessions, as in the trial
    who = np.repeat(np.arange(n), k)
    first = np.repeat(discharged + rng.integers(0, 15, n), k)
    order = np.arange(who.size) - np.repeat(np.cumsum(k) - k, k)
    contacts.add(person_id=person_id[who], team=team[who], contact_date=first + 10 * order,
                 attended=np.ones(who.size, dtype=bool))  # fmt: skip
    missed = rng.poisson(np.where(exposed, 2.0, 0.3))  # offered but not attended
    who = np.repeat(np.arange(n), missed)
    contacts.add(person_id=person_id[who], team=team[who], contact_date=discharged[who] + rng.integers(0, 90, who.size),
                 attended=np.zeros(who.size, dtype=bool))  # fmt: skip
    late = ~exposed & (rng.random(n) < 0.08)  # started too late to count as exposed
    contacts.add(person_id=person_id[late], team=team[late], contact_date=discharged[late] + rng.integers(45, 120, late.sum()),
                 attended=np.ones(late.sum(), dtype=bool))  # fmt: skip

    # Readmission: both potential outcomes from one draw, so the sample's own effect is known.
    exposure_or = 0.6
    logit = -0.7 + 0.35 * prior + 0.06 * (5.5 - decile) - 0.008 * (age - 40) + team_effect[team]
    u = rng.random(n)
    readmitted_0 = u < _expit(logit)
    readmitted_1 = u < _expit(logit + np.log(exposure_or))
    when = 1 + (364 * rng.beta(0.9, 1.8, n)).astype(np.int64)
    dies = rng.random(n) < 0.025
    died = np.where(dies, discharged + rng.integers(1, 540, n), -1)
    alive_then = ~dies | (discharged + when <= died)
    event_0, event_1 = readmitted_0 & alive_then, readmitted_1 & alive_then
    full_year = discharged + 365 <= end
    risk_difference = float(event_1[full_year].mean() - event_0[full_year].mean())
    event = np.where(exposed, event_1, event_0)
    on = discharged + when

    again = event & (rng.random(n) < 0.2)  # a re-acceptance by a crisis team
    admitted = event & ~again
    crisis = _Rows("episode_id", "person_id", "team", "referral_accepted", "discharged")
    crisis.add(person_id=person_id, team=team, referral_accepted=accepted, discharged=discharged)
    reacceptances = _Rows("reacceptance_id", "person_id", "team", "accepted")
    reacceptances.add(person_id=person_id[again], team=team[again], accepted=on[again])
    crisis.add(person_id=person_id[again], team=team[again], referral_accepted=on[again],
               discharged=on[again] + 7 + rng.gamma(2.0, 10.0, again.sum()).astype(np.int64))  # fmt: skip
    length = 1 + rng.gamma(2.0, 9.0, n).astype(np.int64)
    setting = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    episodes.add(person_id=person_id[admitted], setting=setting[admitted], admitted=on[admitted],
                 discharged=on[admitted] + length[admitted])  # fmt: skip
    transfer = admitted & (rng.random(n) < 0.1)  # a same-day transfer to another setting
    episodes.add(person_id=person_id[transfer], setting=(setting[transfer] + 1) % 3,
                 admitted=on[transfer] + length[transfer],
                 discharged=on[transfer] + length[transfer] + rng.integers(1, 15, transfer.sum()))  # fmt: skip
    more = np.where(event, rng.poisson(0.4, n), 0)  # later readmissions
    who = np.repeat(np.arange(n), more)
    start = on[who] + length[who] + rng.integers(5, 300, who.size)
    episodes.add(person_id=person_id[who], setting=rng.choice(3, who.size, p=[0.6, 0.25, 0.15]),
                 admitted=start, discharged=start + 1 + rng.gamma(2.0, 8.0, who.size).astype(np.int64))  # fmt: skip

    deaths = _Rows("person_id", "died")
    deaths.add(person_id=person_id[dies], died=died[dies])

    tables = {
        "persons": pa.table(
            {
                "person_id": pa.array(person_id),
                "birth_year": pa.array(birth_year),
                "sex": pa.array(np.array(["female", "male", "other"])[sex]),
                "ethnicity": pa.array(np.array(ETHNICITIES)[ethnicity]),
                "deprivation_decile": pa.array(decile.astype(np.int64)),
            }
        ),
        "crisis_episodes": _observed(
            crisis.table(("referral_accepted", "discharged"), {"team": TEAMS}),
            "referral_accepted",
            "discharged",
            end,
            "episode_id",
        ),
        "acute_episodes": _observed(
            episodes.table(("admitted", "discharged"), {"setting": SETTINGS}),
            "admitted",
            "discharged",
            end,
            "acute_episode_id",
        ),
        "crt_reacceptances": _observed(
            reacceptances.table(("accepted",), {"team": TEAMS}), "accepted", None, end, "reacceptance_id"
        ),
        "peer_support_contacts": _observed(
            contacts.table(("contact_date",), {"team": TEAMS}), "contact_date", None, end, "contact_id"
        ),
        "deaths": _observed(deaths.table(("died",)), "died", None, end, None),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if csv:
            pacsv.write_csv(table, out / f"{name}.csv")
        else:
            pq.write_table(table, out / f"{name}.parquet")
    planted = Planted(
        persons=n,
        seed=seed,
        data_end=DATA_END.isoformat(),
        outlier_team=OUTLIER_TEAM,
        outlier_odds_ratio=2.0,
        exposure_odds_ratio=exposure_or,
        risk_difference=risk_difference,
    )
    planted.write(out / "planted.json")
    return planted


def _observed(table: pa.Table, start: str, stop: str | None, end: int, key: str | None) -> pa.Table:
    """What the data hold at its end: later rows are unknown, later ends are open. Numbered by `key`."""
    import pyarrow.compute as pc

    last = pa.scalar(end, pa.int32()).cast(pa.date32())
    table = table.filter(pc.less_equal(table[start], last))
    if stop is not None:
        ends = table[stop]
        table = table.set_column(
            table.schema.get_field_index(stop),
            stop,
            pc.if_else(pc.greater(ends, last), pa.scalar(None, pa.date32()), ends),
        )
    if key is not None:
        ids = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
        table = table.set_column(table.schema.get_field_index(key), key, ids)
    return table
