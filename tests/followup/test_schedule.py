from __future__ import annotations

import datetime as dt

from aftercrisis.followup.schedule import WindowState, follow_up_windows


def test_windows_are_anchored_on_randomisation(core_protocol):
    m4, m18 = follow_up_windows(core_protocol, dt.date(2026, 1, 1))
    assert (m4.code, m4.due, m4.opens, m4.closes) == (
        "m4",
        dt.date(2026, 5, 3),
        dt.date(2026, 4, 19),
        dt.date(2026, 7, 2),
    )
    assert (m18.code, m18.due) == ("m18", dt.date(2027, 7, 3))


def test_window_states(core_protocol):
    m4 = follow_up_windows(core_protocol, dt.date(2026, 1, 1))[0]
    assert m4.state(dt.date(2026, 4, 18)) is WindowState.NOT_OPEN
    assert m4.state(dt.date(2026, 4, 19)) is WindowState.OPEN
    assert m4.state(dt.date(2026, 6, 17)) is WindowState.OPEN
    assert m4.state(dt.date(2026, 6, 18)) is WindowState.CLOSING
    assert m4.state(dt.date(2026, 7, 2)) is WindowState.CLOSING
    assert m4.state(dt.date(2026, 7, 3)) is WindowState.OVERDUE
