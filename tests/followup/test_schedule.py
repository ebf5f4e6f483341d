from __future__ import annotations

import datetime as dt

from aftercrisis.followup.schedule import (
    WindowState,
    follow_up_windows,
    follow_up_windows_on,
    impossible_date,
    outside_window,
    window_of,
)


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


def test_the_windows_as_randomisation_dates_agree_with_each_window(core_protocol):
    """The conditions a query selects by give every randomisation date the state its own window has,
    for the protocol's visits and for a window shorter than the closing-soon fortnight."""
    short = core_protocol.visits[1].model_copy(update={"code": "w1", "day": 7, "window_before_days": 2})
    protocol = core_protocol.model_copy(
        update={"visits": [*core_protocol.visits, short.model_copy(update={"window_after_days": 5})]}
    )
    today = dt.date(2026, 6, 1)
    for randomised_on in (today - dt.timedelta(days=n) for n in range(-5, 800)):
        windows = {w.code: w for w in follow_up_windows(protocol, randomised_on)}
        for on in follow_up_windows_on(protocol, today):
            assert randomised_on + on.closes_after == windows[on.code].closes
            window = windows[on.code]
            assert (on.in_window[0] <= randomised_on <= on.in_window[1]) == (
                window.opens <= today <= window.closes
            )
            states = [
                state
                for state, (earliest, latest) in on.randomised.items()
                if (earliest is None or earliest <= randomised_on) and randomised_on <= latest
            ]
            assert states == (
                []
                if windows[on.code].state(today) is WindowState.NOT_OPEN
                else [windows[on.code].state(today)]
            ), (on.code, randomised_on)


def test_a_date_is_outside_a_window_only_beyond_its_first_and_last_day(core_protocol):
    m4 = window_of(core_protocol, "m4", dt.date(2026, 1, 1))
    assert window_of(core_protocol, "baseline", dt.date(2026, 1, 1)) is None
    assert (
        outside_window(m4, dt.date(2026, 4, 19)) is None and outside_window(m4, dt.date(2026, 7, 2)) is None
    )
    assert outside_window(m4, dt.date(2026, 4, 18)) == (
        "18 Apr 2026 is outside the four-month follow-up window, 19 Apr 2026 to 2 Jul 2026"
    )
    assert outside_window(m4, dt.date(2026, 7, 3)) is not None


def test_impossible_dates():
    today, born = dt.date(2026, 11, 30), dt.date(1985, 6, 1)

    def check(day):
        return impossible_date(day, "The date", today=today, not_before=[(born, "the date of birth")])

    assert check(today) is None and check(born) is None
    assert check(today + dt.timedelta(days=1)) == "The date cannot be in the future"
    assert check(born - dt.timedelta(days=1)) == "The date cannot be before the date of birth (1 Jun 1985)"
    assert check(dt.date(1026, 1, 1)) == "The date cannot be before 1900: check the year"
    assert (
        impossible_date(dt.date(1950, 1, 1), "The date", today=today, not_before=[(None, "unknown")]) is None
    )
