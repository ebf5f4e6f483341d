"""Follow-up visit windows from the protocol, anchored on the randomisation date (pure)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from aftercrisis.protocol import Protocol

CLOSING_SOON_DAYS = 14


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


def follow_up_windows(protocol: Protocol, randomised_on: dt.date) -> list[VisitWindow]:
    """The windows of every visit after randomisation (baseline comes before it)."""
    return [
        VisitWindow(
            code=v.code,
            name=v.name,
            due=randomised_on + dt.timedelta(days=v.day),
            opens=randomised_on + dt.timedelta(days=v.day - v.window_before_days),
            closes=randomised_on + dt.timedelta(days=v.day + v.window_after_days),
        )
        for v in protocol.visits
        if v.day > 0
    ]
