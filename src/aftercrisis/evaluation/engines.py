"""Where the routine data is read from: the one engine-specific part of the evaluation.

- `duckdb` (the default, embedded, no server) reads a directory of Parquet or CSV files in place.
- `spark` reads the same files with PySpark (`local[*]` unless `spark_master` names a cluster), or the
  tables of a database in the Spark catalogue (`spark_database`).
- `postgres` reads tables of the contract's names from a PostgreSQL database (`DATA` is its URL).

Everything after `open_tables` is Ibis and runs unchanged on each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from aftercrisis.evaluation.contract import TABLES

ENGINES = ("duckdb", "spark", "postgres")


def table_files(directory: Path, name: str) -> tuple[str, list[str]] | None:
    """('parquet' or 'csv', paths) for a table: NAME.parquet, NAME.csv, or a directory NAME/ of either."""
    for kind in ("parquet", "csv"):
        single = directory / f"{name}.{kind}"
        if single.is_file():
            return kind, [str(single)]
        parts = (
            sorted(str(p) for p in (directory / name).glob(f"*.{kind}"))
            if (directory / name).is_dir()
            else []
        )
        if parts:
            return kind, parts
    return None


@contextmanager
def open_tables(
    source: str,
    engine: str = "duckdb",
    *,
    spark_master: str | None = None,
    spark_database: str | None = None,
) -> Iterator[dict[str, ir.Table | None]]:
    """The contract's tables as Ibis tables (None where missing), and the connection closed afterwards."""
    if engine == "duckdb":
        # Every result that has an order says so (order_by); letting DuckDB drop the order of the files
        # makes the derivation markedly faster on national data.
        con: Any = ibis.duckdb.connect(preserve_insertion_order=False)
        try:
            tables: dict[str, ir.Table | None] = {}
            for name in TABLES:
                found = table_files(Path(source), name)
                if found is None:
                    tables[name] = None
                elif found[0] == "parquet":
                    tables[name] = con.read_parquet(found[1], table_name=name)
                else:
                    tables[name] = con.read_csv(found[1], table_name=name)
            yield tables
        finally:
            con.disconnect()
    elif engine == "spark":
        session = spark_session(spark_master)
        if spark_database is None:
            for name in TABLES:
                found = table_files(Path(source), name)
                if found is None:
                    session.catalog.dropTempView(name)
                    continue
                reader = (
                    session.read
                    if found[0] == "parquet"
                    else session.read.options(header=True, inferSchema=True)
                )
                frame = reader.parquet(*found[1]) if found[0] == "parquet" else reader.csv(found[1])
                frame.createOrReplaceTempView(name)
        con = ibis.pyspark.connect(session)
        names = set(con.list_tables(database=spark_database)) if spark_database else set(con.list_tables())
        yield {
            name: (con.table(name, database=spark_database) if spark_database else con.table(name))
            if name in names
            else None
            for name in TABLES
        }
    elif engine == "postgres":
        con = ibis.connect(source)
        try:
            names = set(con.list_tables())
            yield {name: con.table(name) if name in names else None for name in TABLES}
        finally:
            con.disconnect()
    else:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")


def spark_session(master: str | None = None) -> Any:
    """A Spark session: `local[*]` by default, or the cluster at MASTER; reused while it lives."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("aftercrisis-evaluate")
        .master(master or "local[*]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
    )
    if master is None or master.startswith("local"):
        # one machine: a small driver and few shuffle partitions suit data that fits on it
        builder = builder.config("spark.driver.memory", "2g").config("spark.sql.shuffle.partitions", "8")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
