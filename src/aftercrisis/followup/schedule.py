"""Follow-up visit windows from the protocol, anchored on the randomisation date, and which dates
of a participant's records are possible at all (pure): forms, services and imports share these rules."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from aftercrisis.protocol import Protocol

CLOSING_SOON_DAYS = 14
# No date in a trial record comes before this: an earlier one is a mistyped year (0026, 1026).
EARLIEST_DATE = dt.date(1900, 1, 1)


class WindowState(enum.Enum):
    NOT_OPEN = "not yet open"
    OPEN = "due"
    CLOSING = "window closing"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class VisitWindow:
    code: str
    name: str
    due: dt.date
    opens: dt.date
    closes: dt.date

    def state(self, today: dt.date) -> WindowState:
        if today < self.opens:
            return WindowState.NOT_OPEN
        if today > self.closes:
            return WindowState.OVERDUE
        if (self.closes - today).days <= CLOSING_SOON_DAYS:
            return WindowState.CLOSING
        return WindowState.OPEN


def visit_windows(protocol: Protocol, randomised_on: dt.date) -> list[VisitWindow]:
    """The windows of every visit, baseline (which closes on the day of randomisation) included."""
    return [
        VisitWindow(
            code=v.code,
            name=v.name,
            due=randomised_on + dt.timedelta(days=v.day),
            opens=randomised_on + dt.timedelta(days=v.day - v.window_before_days),
            closes=randomised_on + dt.timedelta(days=v.day + v.window_after_days),
        )
        for v in protocol.visits
    ]


def follow_up_windows(protocol: Protocol, randomised_on: dt.date) -> list[VisitWindow]:
    """The windows of every visit after randomisation (baseline comes before it)."""
    after = {v.code for v in protocol.visits if v.day > 0}
    return [w for w in visit_windows(protocol, randomised_on) if w.code in after]


@dataclass(frozen=True)
class WindowsOn:
    """One follow-up visit's window for every participant at once, as conditions on the randomisation
    date, so that a query can select and count by them: `randomised[state]` is the range of randomisation
    dates (from, to, both inclusive; None: no earlier limit) that puts the window in that state on the day.
    The same rule as `VisitWindow.state`, from the same protocol numbers."""

    code: str
    closes_after: dt.timedelta  # from the randomisation date to the window's close
    randomised: dict[WindowState, tuple[dt.date | None, dt.date]]
    in_window: tuple[
        dt.date, dt.date
    ]  # the randomisation dates whose window is open on the day, closing or not


def follow_up_windows_on(protocol: Protocol, today: dt.date) -> list[WindowsOn]:
    """Each visit after randomisation, with the randomisation dates that make its window due, closing or
    overdue on `today` (any later randomisation date: not yet open)."""
    found = []
    for v in protocol.visits:
        if v.day <= 0:
            continue
        opened_by = today - dt.timedelta(days=v.day - v.window_before_days)  # opens on or before today
        closes_on = today - dt.timedelta(days=v.day + v.window_after_days)  # closes today
        soon = closes_on + dt.timedelta(days=CLOSING_SOON_DAYS)  # closes CLOSING_SOON_DAYS from today
        found.append(
            WindowsOn(
                code=v.code,
                closes_after=dt.timedelta(days=v.day + v.window_after_days),
                randomised={
                    WindowState.OPEN: (soon + dt.timedelta(days=1), opened_by),
                    WindowState.CLOSING: (closes_on, min(soon, opened_by)),
                    WindowState.OVERDUE: (None, min(closes_on - dt.timedelta(days=1), opened_by)),
                },
                in_window=(closes_on, opened_by),
            )
        )
    return found


class FormState(enum.Enum):
    NOT_DUE = "not due"
    DUE = "due"
    OVERDUE = "overdue"
    COMPLETE = "complete"
    MISSED = "missed"
    NOT_POSSIBLE = "not possible"


def form_state(
    window: VisitWindow | None,
    today: dt.date,
    *,
    returned: bool,
    missed: bool,
    stopped_on: dt.date | None,
    open_now: bool = False,
) -> FormState:
    """The state of one questionnaire of one visit on `today`.

    `window` is None for a visit not yet dated (baseline before randomisation), which is due when
    `open_now` (after consent); `missed` when the visit was closed without this return; `stopped_on`
    the date from which no follow-up is possible (death, withdrawal from follow-up).
    """
    if returned:
        return FormState.COMPLETE
    if missed:
        return FormState.MISSED
    if stopped_on is not None and (window is None or stopped_on <= window.closes):
        return FormState.NOT_POSSIBLE
    if window is None:
        return FormState.DUE if open_now else FormState.NOT_DUE
    match window.state(today):
        case WindowState.NOT_OPEN:
            return FormState.NOT_DUE
        case WindowState.OVERDUE:
            return FormState.OVERDUE
        case _:
            return FormState.DUE


def window_of(protocol: Protocol, visit: str, randomised_on: dt.date) -> VisitWindow | None:
    """The visit's window, or None for a visit before randomisation (baseline)."""
    return next((w for w in follow_up_windows(protocol, randomised_on) if w.code == visit), None)


def impossible_date(
    day: dt.date, what: str, *, today: dt.date, not_before: Sequence[tuple[dt.date | None, str]] = ()
) -> str | None:
    """Why `day` cannot be the date of `what` ("the start date", say, as the sentence begins), or None.

    `not_before` holds the dates it cannot precede, each with its name ("the date of birth").
    """
    if day > today:
        return f"{what} cannot be in the future"
    if day < EARLIEST_DATE:
        return f"{what} cannot be before {EARLIEST_DATE.year}: check the year"
    for limit, name in not_before:
        if limit is not None and day < limit:
            return f"{what} cannot be before {name} ({shown(limit)})"
    return None


def outside_window(window: VisitWindow, day: dt.date) -> str | None:
    """Why `day` needs a confirmation and a reason for this visit, or None when it is in the window."""
    if window.opens <= day <= window.closes:
        return None
    name = window.name[:1].lower() + window.name[1:]
    return f"{shown(day)} is outside the {name} window, {shown(window.opens)} to {shown(window.closes)}"


def shown(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"
