"""The cohort and its outcomes, written once as Ibis expressions and run on any engine.

The definitions are the trial's (`aftercrisis.outcomes.derivation`), with day 0 the index discharge
from a crisis resolution team instead of randomisation:

- Index event: a discharge from a crisis team within the period; the first per person, or every one.
- Exposure: at least `min_contacts` attended peer support contacts on days 0 to `exposure_days`.
- Acute-care episodes of the protocol's settings (a re-acceptance by a crisis team is a one-day episode
  when the protocol lists `crt_reacceptance` as a setting) that overlap or touch (a same-day transfer)
  form one spell. A spell starting on or before day 0 is the index stay; every spell starting on day 1
  or later is a readmission.
- Follow-up ends on day E, the earliest of the horizon H, death and the end of the data.
- `readmitted` is 1 when a readmission starts by day E; 0 when none does and follow-up reached H or
  ended with death; unknown otherwise. `days` is the day of the first readmission, or E (censored).
- `bed_days` counts the nights 0 to E-1 in residential settings, each night once.
- `prior_admissions` counts spells starting in the two years before the index referral was accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

REACCEPTANCE = "crt_reacceptance"  # the protocol's setting code for a re-acceptance by a crisis team
PRIOR_DAYS = 730


@dataclass(frozen=True)
class Definition:
    horizon_days: int
    settings: frozenset[str]  # acute-care settings of the protocol
    residential: frozenset[str]  # settings that occupy a bed
    data_end: dt.date  # the last day the data covers
    exposure_days: int = 30
    min_contacts: int = 1
    every_discharge: bool = False
    period_start: dt.date | None = None
    period_end: dt.date | None = None

    @classmethod
    def from_protocol(cls, protocol: object, *, data_end: dt.date, **options: object) -> Definition:
        outcomes = protocol.outcomes  # type: ignore[attr-defined]
        return cls(
            horizon_days=outcomes.primary.horizon_days,
            settings=frozenset(s.code for s in outcomes.acute_care_settings),
            residential=frozenset(s.code for s in outcomes.acute_care_settings if s.residential),
            data_end=data_end,
            **options,  # type: ignore[arg-type]
        )


COHORT_COLUMNS = (
    "person_id", "episode_id", "team", "discharged", "age", "sex", "ethnicity", "deprivation_decile",
    "prior_admissions", "contacts", "exposed", "follow_up_days", "full_year", "complete", "event", "days", "readmitted",
    "died", "n_readmissions", "bed_days",
)  # fmt: skip


def data_end(tables: Mapping[str, ir.Table]) -> dt.date:
    """The latest date anywhere in the data: follow-up is complete up to that day."""
    dates = [
        tables["crisis_episodes"].discharged.max(),
        tables["crisis_episodes"].referral_accepted.max(),
        tables["acute_episodes"].admitted.max(),
        tables["acute_episodes"].discharged.max(),
        tables["crt_reacceptances"].accepted.max(),
        tables["peer_support_contacts"].contact_date.max(),
        tables["deaths"].died.max(),
    ]
    found = [d for d in (expr.execute() for expr in dates) if d is not None and d == d]  # skip NaT
    return max(_as_date(d) for d in found)


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


EPOCH = dt.date(1970, 1, 1)


def _day(on: ir.DateValue) -> ir.IntegerValue:
    """A date as a whole number of days: arithmetic and comparisons on days are cheap and exact everywhere, and
    32 bits (some five million years either side of 1970) halve what the joins and windows carry."""
    return on.delta(ibis.literal(EPOCH), unit="day").cast("int32")


def _reached(episodes: ir.Table) -> ir.Table:
    """Each interval with how far the person's earlier intervals reached: `reach` over every setting and
    `reach_bed` over residential ones (null where there is none), ordered by start then stop.

    Intervals that overlap or touch form one spell, so an interval starts a new spell exactly when it starts
    after `reach`; and the nights an interval adds to the residential ones before it start at `reach_bed`.
    Both come from one window over one sort, without building the spells.
    """
    earlier = ibis.window(
        group_by=episodes.person_id, order_by=[episodes.start, episodes.stop], rows=(None, -1)
    )
    return episodes.mutate(
        reach=episodes.stop.max().over(earlier),
        reach_bed=ibis.ifelse(episodes.bed, episodes.stop, ibis.null("int32")).max().over(earlier),
    )


def _episodes(tables: Mapping[str, ir.Table], definition: Definition) -> ir.Table:
    """Acute-care intervals in days (person_id, bed, start, stop), `bed` where the setting is residential;
    open episodes run past the data. The setting itself is not carried: the window over the intervals sorts
    every column they have."""
    acute = tables["acute_episodes"]
    past_end = (definition.data_end - EPOCH).days + 1
    intervals = acute.filter(acute.setting.isin(sorted(definition.settings - {REACCEPTANCE}))).select(
        person_id=acute.person_id,
        bed=acute.setting.isin(sorted(definition.residential)),
        start=_day(acute.admitted),
        stop=_day(acute.discharged).fill_null(past_end),
    )
    if REACCEPTANCE in definition.settings:
        again = tables["crt_reacceptances"]
        intervals = intervals.union(
            again.select(
                person_id=again.person_id,
                bed=ibis.literal(REACCEPTANCE in definition.residential),
                start=_day(again.accepted),
                stop=_day(again.accepted),
            )
        )
    return intervals


def index_events(tables: Mapping[str, ir.Table], definition: Definition) -> ir.Table:
    crisis = tables["crisis_episodes"]
    found = crisis.filter(crisis.discharged.notnull())
    if definition.period_start is not None:
        found = found.filter(found.discharged >= definition.period_start)
    if definition.period_end is not None:
        found = found.filter(found.discharged <= definition.period_end)
    if not definition.every_discharge:
        first = ibis.window(group_by=found.person_id, order_by=[found.discharged, found.episode_id])
        found = found.mutate(n=ibis.row_number().over(first)).filter(lambda t: t.n == 0).drop("n")
    return found.select("person_id", "episode_id", "team", "referral_accepted", "discharged")


def derive(tables: Mapping[str, ir.Table], definition: Definition) -> ir.Table:
    """One row per index event, with the columns of COHORT_COLUMNS."""
    index = index_events(tables, definition)
    persons, deaths = tables["persons"], tables["deaths"]
    horizon = definition.horizon_days
    last_day = (definition.data_end - EPOCH).days

    base = index.join(persons, "person_id").left_join(deaths, "person_id").select(
        index.person_id, index.episode_id, index.team, index.discharged,
        persons.birth_year, persons.sex, persons.ethnicity, persons.deprivation_decile,
        day0=_day(index.discharged), accepted=_day(index.referral_accepted), died=_day(deaths.died),
    )  # fmt: skip
    # Day E, the end of follow-up, counted from day 0.
    end = ibis.greatest(
        ibis.least(ibis.literal(horizon), last_day - base.day0, (base.died - base.day0).fill_null(horizon)), 0
    )
    base = base.mutate(end=end)
    key = "episode_id"  # an index event is its crisis episode
    anchor = base.select("person_id", key, "day0", "accepted", last=base.day0 + base.end)

    # Each index event meets its person's acute-care intervals and attended peer support contacts in one
    # join, and one aggregate takes from them: readmissions (spells starting on days 1 to E) and prior
    # admissions from the intervals that start a spell; nights 0 to E-1 in residential settings, each night
    # once, from what each stay adds beyond the earlier ones; and the contacts on days 0 to `exposure_days`.
    # A contact is a row with no interval (`start` null) and an interval one with no contact day (`on` null).
    contacts = tables["peer_support_contacts"]
    events = (
        _reached(_episodes(tables, definition))
        .mutate(on=ibis.null("int32"))
        .union(
            contacts.filter(contacts.attended).select(
                person_id=contacts.person_id,
                bed=ibis.literal(False),
                start=ibis.null("int32"),
                stop=ibis.null("int32"),
                reach=ibis.null("int32"),
                reach_bed=ibis.null("int32"),
                on=_day(contacts.contact_date),
            )
        )
    )
    after = anchor.join(events, "person_id")
    spell = after.start.notnull() & (after.reach.isnull() | (after.start > after.reach))
    readmission = spell & (after.start > after.day0) & (after.start <= after.last)
    before = spell & (after.start < after.accepted) & (after.start >= after.accepted - PRIOR_DAYS)
    low = ibis.greatest(after.start, after.reach_bed.fill_null(after.start), after.day0)
    high = ibis.least(after.stop, after.last)
    attended = (after.on >= after.day0) & (after.on <= after.day0 + definition.exposure_days)
    spells = after.group_by(key).agg(
        n_readmissions=ibis.ifelse(readmission, 1, 0).sum(),
        first_start=ibis.ifelse(readmission, after.start, ibis.null("int32")).min(),
        prior_admissions=ibis.ifelse(before, 1, 0).sum(),
        bed_days=ibis.ifelse(after.bed & (high > low), high - low, 0).sum(),
        contacts=ibis.ifelse(attended, 1, 0).sum(),
    )

    joined = base.left_join(spells, key)
    died_within = joined.died.notnull() & (joined.died - joined.day0 <= horizon)
    complete = (joined.end == horizon) | (died_within & (joined.died - joined.day0 == joined.end))
    n_contacts = joined.contacts.fill_null(0)
    event = joined.first_start.notnull()
    return joined.select(
        person_id=joined.person_id,
        episode_id=joined.episode_id,
        team=joined.team,
        discharged=joined.discharged,
        age=joined.discharged.year() - joined.birth_year,
        sex=joined.sex,
        ethnicity=joined.ethnicity,
        deprivation_decile=joined.deprivation_decile,
        prior_admissions=joined.prior_admissions.fill_null(0),
        contacts=n_contacts,
        exposed=n_contacts >= definition.min_contacts,
        follow_up_days=joined.end,
        full_year=last_day - joined.day0 >= horizon,
        complete=complete,
        event=event,
        days=ibis.ifelse(event, joined.first_start - joined.day0, joined.end),
        readmitted=ibis.ifelse(event, 1, ibis.ifelse(complete, 0, ibis.null("int64"))),
        died=ibis.ifelse(died_within, 1, 0),
        n_readmissions=ibis.ifelse(complete, joined.n_readmissions.fill_null(0), ibis.null("int64")),
        bed_days=ibis.ifelse(complete, joined.bed_days.fill_null(0), ibis.null("int64")),
    )


def by_team(cohort: ir.Table) -> ir.Table:
    """Index events, exposure, one-year readmission, days at risk and bed days per team.

    `days_at_risk` adds up each index event's days to its first readmission or the end of its follow-up, so
    readmitted / days_at_risk is the rate of first readmission, which counts people whose follow-up was cut
    short too."""
    return (
        cohort.group_by("team")
        .agg(
            index_events=cohort.count(),
            exposed=ibis.ifelse(cohort.exposed, 1, 0).sum(),  # PostgreSQL casts no boolean to an integer
            known=ibis.ifelse(cohort.readmitted.notnull(), 1, 0).sum(),
            readmitted=cohort.readmitted.sum(),
            days_at_risk=cohort.days.sum(),
            bed_days=cohort.bed_days.sum(),
        )
        .order_by("team")
    )
