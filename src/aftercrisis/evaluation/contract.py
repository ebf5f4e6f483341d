"""The routine-data contract: six tables, their columns, and the checks run before any derivation.

Every problem is collected (table, column, what is wrong, a few example rows) and reported in one
message, so a data manager fixes an extract in one pass. Checks are Ibis expressions, so they run
where the data lives, whatever the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir

Kind = Literal["integer", "string", "date", "boolean"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    meaning: str
    nullable: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str
    meaning: str
    columns: tuple[Column, ...]
    key: str | None  # unique per row, when the table has one

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, kind: Kind, meaning: str, nullable: bool = False) -> Column:
    return Column(name, kind, meaning, nullable)


PERSON = _c("person_id", "integer", "pseudonymous person identifier, the same in every table")

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "persons",
            "one row per person",
            (
                PERSON,
                _c("birth_year", "integer", "year of birth"),
                _c("sex", "string", "female, male or another recorded value"),
                _c("ethnicity", "string", "recorded ethnic group"),
                _c("deprivation_decile", "integer", "Index of Multiple Deprivation decile, 1 (most) to 10"),
            ),
            key="person_id",
        ),
        TableSpec(
            "crisis_episodes",
            "one row per episode of care under a crisis resolution team",
            (
                _c("episode_id", "integer", "identifier of the episode"),
                PERSON,
                _c("team", "string", "crisis resolution team"),
                _c("referral_accepted", "date", "date the team accepted the referral"),
                _c("discharged", "date", "date of discharge from the team (empty while open)", nullable=True),
            ),
            key="episode_id",
        ),
        TableSpec(
            "acute_episodes",
            "one row per acute-care episode (psychiatric ward, crisis house, acute day unit)",
            (
                _c("acute_episode_id", "integer", "identifier of the episode"),
                PERSON,
                _c("setting", "string", "an acute-care setting code of the protocol"),
                _c("admitted", "date", "date of admission"),
                _c("discharged", "date", "date of discharge (empty while in care)", nullable=True),
            ),
            key="acute_episode_id",
        ),
        TableSpec(
            "crt_reacceptances",
            "one row per re-acceptance by a crisis resolution team after a discharge",
            (
                _c("reacceptance_id", "integer", "identifier of the re-acceptance"),
                PERSON,
                _c("team", "string", "crisis resolution team"),
                _c("accepted", "date", "date the team accepted the person again"),
            ),
            key="reacceptance_id",
        ),
        TableSpec(
            "peer_support_contacts",
            "one row per planned peer support contact",
            (
                _c("contact_id", "integer", "identifier of the contact"),
                PERSON,
                _c("team", "string", "team providing the peer support"),
                _c("contact_date", "date", "date of the contact"),
                _c("attended", "boolean", "whether the person attended"),
            ),
            key="contact_id",
        ),
        TableSpec(
            "deaths",
            "one row per person who died",
            (PERSON, _c("died", "date", "date of death")),
            key="person_id",
        ),
    )
}

EXAMPLES = 3  # example rows quoted per problem


@dataclass(frozen=True)
class Problem:
    table: str
    column: str | None
    message: str
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        shown = f" (e.g. {'; '.join(self.examples)})" if self.examples else ""
        return f"{where}: {self.message}{shown}"


class ContractError(ValueError):
    """The routine data breaks the contract; `problems` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the routine data:\n{lines}")


def _kind_of(dtype: ibis.DataType) -> Kind | None:
    if dtype.is_integer():
        return "integer"
    if dtype.is_string():
        return "string"
    if dtype.is_date():
        return "date"
    if dtype.is_boolean():
        return "boolean"
    return None


def _examples(rows: ir.Table, columns: Sequence[str]) -> tuple[str, ...]:
    frame = rows.select(*columns).limit(EXAMPLES).execute()
    return tuple(", ".join(f"{c}={row[c]}" for c in columns) for row in frame.to_dict(orient="records"))


def _count(rows: ir.Table) -> int:
    return int(rows.count().execute())


def check(tables: Mapping[str, ir.Table | None], settings: Sequence[str]) -> None:
    """Raise ContractError listing every problem; `None` stands for a table that was not found."""
    problems: list[Problem] = []
    usable: dict[str, ir.Table] = {}
    for name, spec in TABLES.items():
        table = tables.get(name)
        if table is None:
            problems.append(Problem(name, None, "table missing"))
            continue
        schema = table.schema()
        fine = True
        for column in spec.columns:
            if column.name not in schema:
                problems.append(
                    Problem(name, column.name, f"column missing ({column.kind}: {column.meaning})")
                )
                fine = False
            elif _kind_of(schema[column.name]) != column.kind:
                problems.append(
                    Problem(name, column.name, f"should be {column.kind}, is {schema[column.name]}")
                )
                fine = False
        if fine:
            usable[name] = table
    for name, table in usable.items():
        problems += _row_problems(name, table, usable, settings)
    if problems:
        raise ContractError(problems)


def _row_problems(
    name: str, table: ir.Table, usable: Mapping[str, ir.Table], settings: Sequence[str]
) -> list[Problem]:
    spec = TABLES[name]
    problems = []
    for column in spec.columns:
        if not column.nullable:
            empty = table.filter(table[column.name].isnull())
            if n := _count(empty):
                key = spec.key if spec.key and spec.key != column.name else "person_id"
                problems.append(Problem(name, column.name, f"{n} empty value(s)", _examples(empty, [key])))
    if spec.key:
        counted = table.group_by(spec.key).agg(rows=table.count())
        duplicated = counted.filter(counted.rows > 1)
        if n := _count(duplicated):
            problems.append(
                Problem(
                    name,
                    spec.key,
                    f"{n} identifier(s) used more than once",
                    _examples(duplicated, [spec.key]),
                )
            )
    if name != "persons" and "persons" in usable:
        persons = usable["persons"]
        orphans = table.anti_join(persons, table.person_id == persons.person_id)
        if n := _count(orphans):
            problems.append(
                Problem(
                    name,
                    "person_id",
                    f"{n} row(s) of a person not in persons",
                    _examples(orphans, ["person_id"]),
                )
            )
    ordered = {
        "crisis_episodes": ("referral_accepted", "discharged"),
        "acute_episodes": ("admitted", "discharged"),
    }
    if name in ordered:
        start, end = ordered[name]
        backwards = table.filter(table[end] < table[start])
        if n := _count(backwards):
            problems.append(
                Problem(
                    name,
                    end,
                    f"{n} row(s) end before they start ({end} before {start})",
                    _examples(backwards, [spec.key or "person_id", start, end]),
                )
            )
    if name == "acute_episodes":
        unknown = table.filter(~table.setting.isin(list(settings)))
        if n := _count(unknown):
            problems.append(
                Problem(
                    name,
                    "setting",
                    f"{n} row(s) with a setting not in the protocol ({', '.join(settings)})",
                    _examples(unknown, ["acute_episode_id", "setting"]),
                )
            )
    if name == "persons":
        decile = table.deprivation_decile
        outside = table.filter((decile < 1) | (decile > 10))
        if n := _count(outside):
            problems.append(
                Problem(
                    name,
                    "deprivation_decile",
                    f"{n} value(s) outside 1 to 10",
                    _examples(outside, ["person_id", "deprivation_decile"]),
                )
            )
    return problems
