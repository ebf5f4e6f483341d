"""Readmission monitoring at national scale: the cohort-and-outcome derivation on 1,000,000 persons.

Generates (or reuses) a synthetic routine data set in Parquet, then times, each in its own process so
that its peak memory is its own:

- aftercrisis on DuckDB: index discharges, exposure, one-year readmission, time to it, bed days and the
  rates by team (`cohort.by_team` of `cohort.derive`, one query: the engine computes what the rates need);
- `duckdb-cohort`: aftercrisis on DuckDB with the cohort materialised in full in the engine first, as `aftercrisis evaluate`
  does before its statistics (every column of every index event), then the rates by team;
- the same derivation written directly in pandas (the baseline), checked to give the same counts;
- the same on Spark local[2] (time only: Spark is there for clusters, not for speed on two cores).

The libraries each one uses are imported before its clock starts. Prints each time and peak resident set
size, and last `speedup: N` times (pandas time / DuckDB time).

    python benchmarks/evaluation.py [--persons 1000000] [--data DIR] [--no-spark] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HORIZON, PRIOR_DAYS, EXPOSURE_DAYS = 365, 730, 30
SETTINGS = ("inpatient_ward", "crisis_house", "acute_day_unit")
RESIDENTIAL = ("inpatient_ward", "crisis_house")
TEAM_COLUMNS = ["team", "index_events", "exposed", "known", "readmitted", "days_at_risk", "bed_days"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_aftercrisis(data: Path, engine: str, *, whole_cohort: bool = False) -> dict:
    import ibis

    from aftercrisis.evaluation import cohort
    from aftercrisis.evaluation.engines import open_tables, spark_session
    from aftercrisis.evaluation.synthesise import DATA_END
    from aftercrisis.protocol import load_protocol

    protocol = load_protocol(Path(__file__).resolve().parents[1] / "protocols" / "core.yaml")
    definition = cohort.Definition.from_protocol(protocol, data_end=DATA_END)
    if engine == "spark":
        spark_session("local[2]")  # started before the clock: a cluster's session is already up
    else:
        ibis.duckdb.connect().disconnect()  # the backend imported before the clock
    started = time.perf_counter()
    with open_tables(str(data), engine, spark_master="local[2]" if engine == "spark" else None) as tables:
        derived = cohort.derive(tables, definition)
        teams = cohort.by_team(derived.cache() if whole_cohort else derived).execute()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": _peak_mb(), "teams": _teams(teams)}


def _days(series: pd.Series) -> np.ndarray:
    values = pd.to_datetime(series).to_numpy("datetime64[D]")
    days = values.astype("int64").astype(float)
    days[np.isnat(values)] = np.nan
    return days


def _spells(episodes: pd.DataFrame) -> pd.DataFrame:
    episodes = episodes.sort_values(["person_id", "start", "stop"], kind="stable")
    by_person = episodes.groupby("person_id", sort=False)
    reach = by_person["stop"].cummax()
    reached = reach.groupby(episodes["person_id"], sort=False).shift()
    episodes = episodes.assign(new=(reached.isna() | (episodes["start"] > reached)).astype(int))
    episodes["spell"] = episodes.groupby("person_id", sort=False)["new"].cumsum()
    return (
        episodes.groupby(["person_id", "spell"], sort=False)
        .agg(start=("start", "min"), stop=("stop", "max"))
        .reset_index()
    )


def run_pandas(data: Path) -> dict:
    """The same derivation written directly in pandas, vectorised."""
    import pyarrow.parquet  # noqa: F401  imported before the clock, as DuckDB's backend is

    from aftercrisis.evaluation.synthesise import DATA_END

    started = time.perf_counter()
    read = {name: pd.read_parquet(data / f"{name}.parquet") for name in
            ("persons", "crisis_episodes", "acute_episodes", "crt_reacceptances", "peer_support_contacts", "deaths")}  # fmt: skip
    last_day = (pd.Timestamp(DATA_END) - pd.Timestamp("1970-01-01")).days
    crisis = read["crisis_episodes"].dropna(subset=["discharged"])
    index = crisis.sort_values(["person_id", "discharged", "episode_id"]).drop_duplicates("person_id")
    index = index.assign(day0=_days(index["discharged"]), accepted=_days(index["referral_accepted"]))
    deaths = read["deaths"].assign(died=lambda f: _days(f["died"]))[["person_id", "died"]]
    base = index.merge(deaths, on="person_id", how="left")
    end = np.minimum(
        np.minimum(HORIZON, last_day - base["day0"]), (base["died"] - base["day0"]).fillna(HORIZON)
    )
    base["end"] = np.maximum(end, 0)
    base["last"] = base["day0"] + base["end"]

    acute = read["acute_episodes"]
    acute = acute[acute["setting"].isin(SETTINGS)]
    episodes = pd.DataFrame({"person_id": acute["person_id"], "setting": acute["setting"],
                             "start": _days(acute["admitted"]), "stop": _days(acute["discharged"])})  # fmt: skip
    episodes["stop"] = episodes["stop"].fillna(last_day + 1)
    again = read["crt_reacceptances"]
    accepted = _days(again["accepted"])
    episodes = pd.concat([episodes, pd.DataFrame({"person_id": again["person_id"], "setting": "crt_reacceptance",
                                                   "start": accepted, "stop": accepted})])  # fmt: skip
    anchor = base[["person_id", "day0", "accepted", "last"]]
    after = anchor.merge(_spells(episodes[["person_id", "start", "stop"]]), on="person_id")
    readmission = (after["start"] > after["day0"]) & (after["start"] <= after["last"])
    before = (after["start"] < after["accepted"]) & (after["start"] >= after["accepted"] - PRIOR_DAYS)
    spells = (
        after.assign(
            readmission=readmission.astype(int),
            first=after["start"].where(readmission),
            prior=before.astype(int),
        )
        .groupby("person_id")
        .agg(n_readmissions=("readmission", "sum"), first_start=("first", "min"), prior=("prior", "sum"))
    )
    beds = anchor.merge(_spells(episodes.loc[episodes["setting"].isin(RESIDENTIAL), ["person_id", "start", "stop"]]),
                        on="person_id")  # fmt: skip
    nights = (np.minimum(beds["stop"], beds["last"]) - np.maximum(beds["start"], beds["day0"])).clip(lower=0)
    bed_days = nights.groupby(beds["person_id"]).sum().rename("bed_days")
    contacts = read["peer_support_contacts"]
    contacts = contacts.loc[contacts["attended"], ["person_id"]].assign(
        on=_days(contacts.loc[contacts["attended"], "contact_date"])
    )
    exposure = anchor[["person_id", "day0"]].merge(contacts, on="person_id")
    within = (exposure["on"] >= exposure["day0"]) & (exposure["on"] <= exposure["day0"] + EXPOSURE_DAYS)
    attended = exposure[within].groupby("person_id").size().rename("contacts")

    cohort = base.join(spells, on="person_id").join(bed_days, on="person_id").join(attended, on="person_id")
    died_within = cohort["died"].notna() & (cohort["died"] - cohort["day0"] <= HORIZON)
    complete = (cohort["end"] == HORIZON) | (died_within & (cohort["died"] - cohort["day0"] == cohort["end"]))
    event = cohort["first_start"].notna()
    cohort["exposed"] = cohort["contacts"].fillna(0) >= 1
    cohort["readmitted"] = np.where(event, 1.0, np.where(complete, 0.0, np.nan))
    cohort["bed_days"] = np.where(complete, cohort["bed_days"].fillna(0), np.nan)
    cohort["days"] = np.where(event, cohort["first_start"] - cohort["day0"], cohort["end"])
    teams = (
        cohort.groupby("team")
        .agg(
            index_events=("person_id", "size"),
            exposed=("exposed", "sum"),
            known=("readmitted", "count"),
            readmitted=("readmitted", "sum"),
            days_at_risk=("days", "sum"),
            bed_days=("bed_days", "sum"),
        )
        .reset_index()
    )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": _peak_mb(), "teams": _teams(teams)}


def _teams(frame: pd.DataFrame) -> list[list]:
    frame = frame[TEAM_COLUMNS].sort_values("team")
    return [[row[0], *(int(v) for v in row[1:])] for row in frame.itertuples(index=False)]


KINDS = ["duckdb", "duckdb-cohort", "pandas", "spark"]


def _child(kind: str, data: Path) -> dict:
    """Run one measurement in a fresh process and read its JSON answer."""
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--data", str(data)],
                          check=True, capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, help="directory of the synthetic data (generated if empty)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is reported")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "pandas":
            result = run_pandas(args.data)
        else:
            engine = args.child.removesuffix("-cohort")
            result = run_aftercrisis(args.data, engine, whole_cohort=args.child.endswith("-cohort"))
        print(json.dumps(result))
        return

    data = args.data or Path(tempfile.gettempdir()) / f"aftercrisis-routine-{args.persons}"
    if not (data / "planted.json").exists():
        from aftercrisis.evaluation.synthesise import synthesise

        started = time.perf_counter()
        synthesise(args.persons, data)
        print(f"synthesised {args.persons:,} persons in {time.perf_counter() - started:.1f} s")
    import pyarrow.parquet as pq

    rows = {p.stem: pq.ParquetFile(p).metadata.num_rows for p in sorted(data.glob("*.parquet"))}
    events = sum(rows.values()) - rows["persons"]
    print(
        f"data: {rows['persons']:,} persons, {events:,} care events ({', '.join(f'{k} {v:,}' for k, v in rows.items())})"
    )

    best = {}
    kinds = [kind for kind in KINDS if not (args.no_spark and kind == "spark")]
    for kind in kinds:
        runs = [_child(kind, data) for _ in range(args.repeat if kind != "spark" else 1)]
        best[kind] = min(runs, key=lambda r: r["seconds"])
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"{kind:>13}: {best[kind]['seconds']:.2f} s (best of {len(runs)}: {times}), "
              f"peak RSS {best[kind]['peak_mb']:.0f} MB")  # fmt: skip
    same = all(best[kind]["teams"] == best["pandas"]["teams"] for kind in kinds)
    totals = np.array([row[1:] for row in best["duckdb"]["teams"]]).sum(axis=0)
    print(f"counts (index events, exposed, known, readmitted, days at risk, bed days): {', '.join(f'{v:,}' for v in totals)}; "
          f"{'the same on every engine' if same else 'DIFFERENT between engines'}")  # fmt: skip
    if not same:
        sys.exit(1)
    print(f"speedup: {best['pandas']['seconds'] / best['duckdb']['seconds']:.1f}×")  # noqa: RUF001


if __name__ == "__main__":
    main()
