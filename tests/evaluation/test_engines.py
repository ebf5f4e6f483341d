"""One definition, every engine: DuckDB, Spark (local) and PostgreSQL give the cohort of an independent
reference exactly, and the same estimates."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import numpy as np
import pandas as pd
import pytest

from aftercrisis.evaluation import cohort, statistics
from aftercrisis.evaluation.engines import open_tables
from aftercrisis.evaluation.report import evaluate
from aftercrisis.evaluation.synthesise import DATA_END

from .reference import COMPARED, reference_cohort


@pytest.fixture(scope="module")
def definition(core_protocol):
    return cohort.Definition.from_protocol(core_protocol, data_end=DATA_END)


@pytest.fixture(scope="module")
def reference(routine_data, definition):
    return reference_cohort(
        routine_data,
        settings=set(definition.settings),
        residential=set(definition.residential),
        data_end=definition.data_end,
    )


def _derived(tables, definition) -> pd.DataFrame:
    return (
        cohort.derive(tables, definition)
        .execute()
        .sort_values(["person_id", "episode_id"])
        .reset_index(drop=True)
    )


def _assert_same_cohort(derived: pd.DataFrame, reference: pd.DataFrame) -> None:
    assert len(derived) == len(reference)
    for column in COMPARED:
        left, right = derived[column], reference[column]
        if column == "team":
            assert (left.astype(str) == right.astype(str)).all(), column
            continue
        left, right = left.astype("Float64"), right.astype("Float64")
        same = (left == right).fillna(False) | (left.isna() & right.isna())
        assert same.all(), f"{column}: {derived.loc[~same, ['person_id', column]].head()}"


def _estimates(frame: pd.DataFrame) -> np.ndarray:
    comparison = statistics.weighted_comparison(frame)
    funnel = statistics.funnel(frame)
    return np.array(
        [
            comparison.risk_difference,
            *comparison.risk_difference_ci,
            comparison.odds_ratio,
            *comparison.odds_ratio_ci,
            *funnel["adjusted"],
            *statistics.p_chart(frame)["p"],
        ]
    )


def test_the_reference_is_not_trivial(reference):
    """The data exercise every part of the definition."""
    assert reference["event"].sum() > 100 and reference["exposed"].sum() > 100
    assert reference["readmitted"].isna().sum() > 50  # follow-up cut short by the end of the data
    assert (reference["died"] == 1).sum() > 10
    assert reference["bed_days"].fillna(0).sum() > 0 and reference["prior_admissions"].max() >= 2
    assert (reference["n_readmissions"].fillna(0) >= 2).any()


def test_duckdb_matches_the_reference(routine_data, definition, reference):
    with open_tables(str(routine_data), "duckdb") as tables:
        derived = _derived(tables, definition)
        assert DATA_END - dt.timedelta(days=30) <= cohort.data_end(tables) <= DATA_END
    _assert_same_cohort(derived, reference)


def test_rates_by_team_add_up_the_reference(routine_data, definition, reference):
    with open_tables(str(routine_data)) as tables:
        teams = cohort.by_team(cohort.derive(tables, definition)).execute().set_index("team")
    expected = (
        reference.assign(known=reference["readmitted"].notna())
        .groupby("team")
        .agg(
            index_events=("person_id", "size"),
            exposed=("exposed", "sum"),
            known=("known", "sum"),
            readmitted=("readmitted", "sum"),
            days_at_risk=("days", "sum"),
            bed_days=("bed_days", "sum"),
        )
    )
    pd.testing.assert_frame_equal(teams.astype("int64"), expected.astype("int64"), check_names=False)


def test_duckdb_reads_csv_as_it_reads_parquet(tmp_path, definition):
    from aftercrisis.evaluation.synthesise import synthesise

    synthesise(800, tmp_path / "parquet", seed=5)
    synthesise(800, tmp_path / "csv", seed=5, csv=True)
    with open_tables(str(tmp_path / "parquet")) as tables:
        parquet = _derived(tables, definition)
    with open_tables(str(tmp_path / "csv")) as tables:
        csv = _derived(tables, definition)
    pd.testing.assert_frame_equal(
        parquet.drop(columns="discharged"), csv.drop(columns="discharged"), check_dtype=False
    )


def test_every_discharge_adds_the_later_ones(routine_data, definition):
    from dataclasses import replace

    with open_tables(str(routine_data)) as tables:
        first = _derived(tables, definition)
        every = _derived(tables, replace(definition, every_discharge=True))
        discharges = tables["crisis_episodes"].discharged.notnull().sum().execute()
    assert len(first) == first["person_id"].nunique() < len(every) == discharges


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    from aftercrisis.evaluation.engines import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


def test_spark_matches_the_reference(spark, routine_data, definition, reference):
    with open_tables(str(routine_data), "spark", spark_master="local[2]") as tables:
        derived = _derived(tables, definition)
    _assert_same_cohort(derived, reference)
    np.testing.assert_allclose(
        _estimates(derived), _estimates(reference_with_context(derived, reference)), rtol=0, atol=1e-9
    )


def reference_with_context(derived: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """The reference's outcome columns with the covariates the estimates also need."""
    extra = [c for c in derived.columns if c not in reference.columns]
    return reference.join(derived[extra])


@pytest.fixture
def postgres_url(routine_data):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs DATABASE_URL to name a PostgreSQL server (the PostgreSQL pass of CI)")
    import psycopg

    name = f"aftercrisis_evaluation_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    own = url.rsplit("/", 1)[0] + f"/{name}"
    import ibis

    con = ibis.connect(own)
    for path in sorted(routine_data.glob("*.parquet")):
        con.create_table(path.stem, pd.read_parquet(path))
    con.disconnect()
    yield own
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.db_server
def test_postgres_matches_the_reference(postgres_url, definition, reference):
    with open_tables(postgres_url, "postgres") as tables:
        derived = _derived(tables, definition)
        results = evaluate(tables, definition).results
    _assert_same_cohort(derived, reference)
    np.testing.assert_allclose(
        _estimates(derived), _estimates(reference_with_context(derived, reference)), rtol=0, atol=1e-9
    )
    assert results["counts"]["index_events"] == len(reference)


def test_estimates_agree_across_engines_on_duckdb(routine_data, definition, reference):
    with open_tables(str(routine_data)) as tables:
        derived = _derived(tables, definition)
    np.testing.assert_allclose(
        _estimates(derived), _estimates(reference_with_context(derived, reference)), rtol=0, atol=1e-9
    )


def test_a_period_keeps_only_its_discharges(routine_data, definition):
    from dataclasses import replace

    period = replace(definition, period_start=dt.date(2023, 1, 1), period_end=dt.date(2023, 12, 31))
    with open_tables(str(routine_data)) as tables:
        derived = _derived(tables, period)
    assert not derived.empty
    assert (
        derived["discharged"]
        .map(lambda d: dt.date(2023, 1, 1) <= pd.Timestamp(d).date() <= dt.date(2023, 12, 31))
        .all()
    )
