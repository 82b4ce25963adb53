"""SLA tables worked out by hand: 24×7 clocks, business hours across National Day 2025 and Spring
Festival 2026 (with their make-up working weekend days), on-hold pauses, warnings, breaches, late
synced actions, reopens, and the errors the engine and the service rely on.

Business hours are the default 08:30-12:00 and 13:30-17:30 in Asia/Shanghai: 3.5 h + 4 h = 7.5 h,
so one working day ('1d') is 27,000 working seconds.

Holiday arrangements, from the State Council notices; each is also asserted against the
`chinesecalendar` package in test_package_holds_the_official_arrangements:
- National Day + Mid-Autumn 2025 (国办发明电〔2024〕12号): off Wed 1 Oct to Wed 8 Oct 2025;
  Sun 28 Sep and Sat 11 Oct 2025 are working days.
- Spring Festival 2026 (国办发明电〔2025〕7号): off Sun 15 Feb to Mon 23 Feb 2026; Sat 14 Feb and
  Sat 28 Feb 2026 are working days.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from workorders.sla.calendars import AlwaysCalendar, BusinessCalendar, UnknownHolidayYear
from workorders.sla.clock import (
    AmbiguousSlaPolicy,
    HoldWithoutReason,
    NoSlaPolicy,
    SlaEvent,
    SlaPolicy,
    SlaState,
    StatusChange,
    check_hold,
    compute_sla,
    policy_for,
)

SH = ZoneInfo("Asia/Shanghai")


def _policy(**settings: object) -> SlaPolicy:
    """A policy as the YAML loader would build it (durations as text)."""
    return SlaPolicy.model_validate(settings)


H = 3600.0
DAY = 7.5 * H  # one working day of the default business hours

P1_24X7 = _policy(name="P1 emergency", priority="P1", response="30m", resolution="4h")
P3_BUSINESS = _policy(
    name="P3 routine", priority="P3", response="4h", resolution="2d", calendar="business"
)
P2_BUSINESS_1D = _policy(name="P2 one day", priority="P2", resolution="1d", calendar="business")


def _sla(
    policy: SlaPolicy, created: dt.datetime, now: dt.datetime, *changes: StatusChange
) -> SlaState:
    return compute_sla(created_at=created, policy=policy, changes=list(changes), now=now)


def _change(at: dt.datetime, frm: str, to: str, reason: str | None = None) -> StatusChange:
    return StatusChange(at, frm, to, reason)


# ---------------------------------------------------------------- the package's official data


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2025, 9, 27), False),  # Sat, plain weekend
        (dt.date(2025, 9, 28), True),  # Sun, make-up working day for National Day
        (dt.date(2025, 9, 30), True),  # Tue, last day before the holiday
        (dt.date(2025, 10, 1), False),  # Wed, National Day
        (dt.date(2025, 10, 6), False),  # Mon, Mid-Autumn Festival
        (dt.date(2025, 10, 8), False),  # Wed, last holiday day
        (dt.date(2025, 10, 9), True),  # Thu, back at work
        (dt.date(2025, 10, 11), True),  # Sat, make-up working day
        (dt.date(2025, 10, 12), False),  # Sun, plain weekend
        (dt.date(2026, 2, 14), True),  # Sat, make-up working day for Spring Festival
        (dt.date(2026, 2, 15), False),  # Sun, first holiday day
        (dt.date(2026, 2, 17), False),  # Tue, Spring Festival (正月初一)
        (dt.date(2026, 2, 23), False),  # Mon, last holiday day
        (dt.date(2026, 2, 24), True),  # Tue, back at work
        (dt.date(2026, 2, 28), True),  # Sat, make-up working day
        (dt.date(2026, 3, 1), False),  # Sun, plain weekend
    ],
)
def test_package_holds_the_official_arrangements(day: dt.date, working: bool) -> None:
    assert chinese_calendar.is_workday(day) is working


# ---------------------------------------------------------------- 24×7: P1, 30 min / 4 h


def test_24x7_plain_job_meets_both_targets() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 3, 12, 30, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 20, tzinfo=SH), "new", "acknowledged"),
        _change(dt.datetime(2025, 3, 3, 12, 0, tzinfo=SH), "acknowledged", "resolved"),
    )
    assert state.response is not None and state.resolution is not None
    # 09:00 + 30 min
    assert state.response.due_at == dt.datetime(2025, 3, 3, 9, 30, tzinfo=SH)
    assert state.response.met_at == dt.datetime(2025, 3, 3, 9, 20, tzinfo=SH)
    assert state.response.elapsed_seconds == 20 * 60  # 09:00 -> 09:20
    assert state.response.remaining_seconds == 10 * 60
    assert not state.response.breached and not state.response.warned  # 80% would be 09:24
    # 09:00 + 4 h
    assert state.resolution.due_at == dt.datetime(2025, 3, 3, 13, 0, tzinfo=SH)
    assert state.resolution.met_at == dt.datetime(2025, 3, 3, 12, 0, tzinfo=SH)
    assert state.resolution.elapsed_seconds == 3 * H  # 09:00 -> 12:00
    assert state.resolution.state == "met"
    assert not state.resolution.warned  # 80% = 3 h 12 min would be 12:12
    assert state.events == ()


def test_24x7_hold_moves_resolution_due_by_exactly_the_pause() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 3, 12, 0, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 10, tzinfo=SH), "new", "acknowledged"),
        _change(dt.datetime(2025, 3, 3, 10, 0, tzinfo=SH), "acknowledged", "on_hold", "parts"),
        _change(dt.datetime(2025, 3, 3, 11, 15, tzinfo=SH), "on_hold", "in_progress"),
    )
    res = state.resolution
    assert res is not None
    assert res.paused_seconds == 75 * 60  # on hold 10:00 -> 11:15 = 1 h 15 min
    # ran 09:00 -> 10:00 (1 h) and 11:15 -> 12:00 (45 min) = 1 h 45 min
    assert res.elapsed_seconds == 1.75 * H
    assert res.remaining_seconds == 2.25 * H  # 4 h - 1 h 45 min
    # 13:00 without the hold, + 1 h 15 min
    assert res.due_at == dt.datetime(2025, 3, 3, 14, 15, tzinfo=SH)
    assert res.state == "running"


def test_24x7_due_keeps_moving_while_the_job_is_still_on_hold() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 3, 11, 0, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 10, tzinfo=SH), "new", "acknowledged"),
        _change(dt.datetime(2025, 3, 3, 10, 0, tzinfo=SH), "acknowledged", "on_hold", "access"),
    )
    res = state.resolution
    assert res is not None and res.state == "paused"
    assert res.paused_seconds == 1 * H  # 10:00 -> now 11:00
    # 3 h left at 10:00; if work resumed now (11:00): 11:00 + 3 h
    assert res.due_at == dt.datetime(2025, 3, 3, 14, 0, tzinfo=SH)


def test_24x7_late_acknowledgement_breaches_response_at_its_due_instant() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 3, 10, 0, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 45, tzinfo=SH), "new", "acknowledged"),
    )
    resp = state.response
    assert resp is not None
    assert resp.due_at == dt.datetime(2025, 3, 3, 9, 30, tzinfo=SH)  # 09:00 + 30 min
    assert resp.met_at == dt.datetime(2025, 3, 3, 9, 45, tzinfo=SH)
    assert resp.breached and resp.warned
    assert resp.remaining_seconds == -15 * 60  # 30 min - 45 min
    assert state.events == (
        # 80% of 30 min = 24 min: 09:00 + 24 min
        SlaEvent("warning", "response", dt.datetime(2025, 3, 3, 9, 24, tzinfo=SH)),
        SlaEvent("breach", "response", dt.datetime(2025, 3, 3, 9, 30, tzinfo=SH)),
    )


def test_acknowledging_exactly_at_the_due_instant_is_on_time() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 3, 10, 0, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 30, tzinfo=SH), "new", "acknowledged"),
    )
    assert state.response is not None
    assert not state.response.breached and state.response.remaining_seconds == 0


# ---------------------------------------------------------------- National Day 2025


def test_national_day_resolution_lands_after_the_holiday() -> None:
    created = dt.datetime(2025, 9, 30, 16, 0, tzinfo=SH)  # Tue, last day before the holiday
    state = _sla(P3_BUSINESS, created, created)
    assert state.response is not None and state.resolution is not None
    # response 4 h: Tue 30 Sep 16:00-17:30 = 1.5 h; 1-8 Oct off;
    # Thu 9 Oct 08:30 + 2.5 h = 11:00
    assert state.response.due_at == dt.datetime(2025, 10, 9, 11, 0, tzinfo=SH)
    # resolution 2 d = 15 h: Tue 30 Sep 1.5 h; 1-8 Oct off; Thu 9 Oct 7.5 h (9 h);
    # Fri 10 Oct 08:30-12:00 3.5 h (12.5 h) + 13:30 + 2.5 h = 16:00
    assert state.resolution.due_at == dt.datetime(2025, 10, 10, 16, 0, tzinfo=SH)


def test_national_day_target_runs_through_the_working_saturday() -> None:
    created = dt.datetime(2025, 10, 10, 10, 0, tzinfo=SH)  # Fri
    state = _sla(P3_BUSINESS, created, created)
    assert state.resolution is not None
    # 2 d = 15 h: Fri 10 Oct 10:00-12:00 2 h + 13:30-17:30 4 h (6 h);
    # Sat 11 Oct is a working day: 7.5 h (13.5 h); Sun 12 Oct off;
    # Mon 13 Oct 08:30 + 1.5 h = 10:00
    assert state.resolution.due_at == dt.datetime(2025, 10, 13, 10, 0, tzinfo=SH)
    one_day = _policy(name="1d", priority="P3", resolution="1d", calendar="business")
    # 1 d = 7.5 h: Fri 6 h as above; Sat 11 Oct 08:30 + 1.5 h = 10:00
    one_day_state = _sla(one_day, created, created).resolution
    assert one_day_state is not None
    assert one_day_state.due_at == dt.datetime(2025, 10, 11, 10, 0, tzinfo=SH)


def test_job_opened_on_a_plain_saturday_starts_on_the_working_sunday() -> None:
    created = dt.datetime(2025, 9, 27, 10, 0, tzinfo=SH)  # Sat, not a working day
    state = _sla(P3_BUSINESS, created, dt.datetime(2025, 9, 28, 9, 0, tzinfo=SH))
    assert state.response is not None and state.resolution is not None
    # Sat 27 Sep counts nothing; Sun 28 Sep (make-up working day) 08:30 -> 09:00 = 30 min
    assert state.response.elapsed_seconds == 30 * 60
    # response 4 h: Sun 28 Sep 08:30-12:00 3.5 h + 13:30 + 0.5 h = 14:00
    assert state.response.due_at == dt.datetime(2025, 9, 28, 14, 0, tzinfo=SH)
    # resolution 2 d = 15 h: Sun 28 Sep 7.5 h + Mon 29 Sep 7.5 h = ends Mon 17:30 sharp
    assert state.resolution.due_at == dt.datetime(2025, 9, 29, 17, 30, tzinfo=SH)
    calendar = P3_BUSINESS.work_calendar
    assert calendar.working_seconds(created, dt.datetime(2025, 9, 28, 8, 30, tzinfo=SH)) == 0
    # the first working instant after Sat 10:00 is Sun 28 Sep 08:30 (+1 s)
    assert calendar.add_working_time(created, 1) == dt.datetime(2025, 9, 28, 8, 30, 1, tzinfo=SH)


def test_single_span_business_hours_across_national_day() -> None:
    policy = _policy(
        name="9-18",
        priority="P3",
        resolution="1d",
        calendar="business",
        hours=["09:00-18:00"],
    )
    assert policy.resolution == 9 * H  # one working day of 09:00-18:00
    created = dt.datetime(2025, 9, 30, 17, 0, tzinfo=SH)
    state = _sla(policy, created, created)
    assert state.resolution is not None
    # 9 h: Tue 30 Sep 17:00-18:00 1 h; 1-8 Oct off; Thu 9 Oct 09:00 + 8 h = 17:00
    assert state.resolution.due_at == dt.datetime(2025, 10, 9, 17, 0, tzinfo=SH)


# ---------------------------------------------------------------- Spring Festival 2026


def test_spring_festival_resolution_uses_the_working_saturday_before_it() -> None:
    created = dt.datetime(2026, 2, 13, 15, 0, tzinfo=SH)  # Fri
    state = _sla(P3_BUSINESS, created, created)
    assert state.response is not None and state.resolution is not None
    # response 4 h: Fri 13 Feb 15:00-17:30 2.5 h; Sat 14 Feb is a working day: 08:30 + 1.5 h
    assert state.response.due_at == dt.datetime(2026, 2, 14, 10, 0, tzinfo=SH)
    # resolution 2 d = 15 h: Fri 2.5 h; Sat 14 Feb 7.5 h (10 h); 15-23 Feb off;
    # Tue 24 Feb 08:30-12:00 3.5 h (13.5 h) + 13:30 + 1.5 h = 15:00
    assert state.resolution.due_at == dt.datetime(2026, 2, 24, 15, 0, tzinfo=SH)


def test_job_opened_during_spring_festival_starts_after_it() -> None:
    created = dt.datetime(2026, 2, 17, 9, 0, tzinfo=SH)  # Tue, 正月初一
    state = _sla(P3_BUSINESS, created, dt.datetime(2026, 2, 23, 17, 0, tzinfo=SH))
    assert state.response is not None and state.resolution is not None
    assert state.response.elapsed_seconds == 0  # nothing counts until Tue 24 Feb 08:30
    # response 4 h: Tue 24 Feb 08:30-12:00 3.5 h + 13:30 + 0.5 h = 14:00
    assert state.response.due_at == dt.datetime(2026, 2, 24, 14, 0, tzinfo=SH)
    # resolution 2 d = 15 h: Tue 24 Feb 7.5 h + Wed 25 Feb 7.5 h = Wed 17:30
    assert state.resolution.due_at == dt.datetime(2026, 2, 25, 17, 30, tzinfo=SH)


def test_spring_festival_target_runs_through_the_working_saturday_after_it() -> None:
    policy = _policy(name="1d", priority="P3", resolution="1d", calendar="business")
    created = dt.datetime(2026, 2, 27, 14, 0, tzinfo=SH)  # Fri
    state = _sla(policy, created, created)
    assert state.resolution is not None
    # 7.5 h: Fri 27 Feb 14:00-17:30 3.5 h; Sat 28 Feb is a working day:
    # 08:30-12:00 3.5 h (7 h) + 13:30 + 0.5 h = 14:00
    assert state.resolution.due_at == dt.datetime(2026, 2, 28, 14, 0, tzinfo=SH)
    created = dt.datetime(2026, 2, 28, 16, 0, tzinfo=SH)  # Sat 28 Feb, working
    # 7.5 h: Sat 16:00-17:30 1.5 h; Sun 1 Mar off; Mon 2 Mar 08:30 + 6 h:
    # 08:30-12:00 3.5 h (5 h) + 13:30 + 2.5 h = 16:00
    state = _sla(policy, created, created)
    assert state.resolution is not None
    assert state.resolution.due_at == dt.datetime(2026, 3, 2, 16, 0, tzinfo=SH)


# ---------------------------------------------------------------- pauses across holidays


def test_hold_spanning_national_day_pauses_only_working_time() -> None:
    created = dt.datetime(2025, 9, 29, 9, 0, tzinfo=SH)  # Mon
    state = _sla(
        P3_BUSINESS,
        created,
        dt.datetime(2025, 10, 9, 11, 0, tzinfo=SH),
        _change(dt.datetime(2025, 9, 29, 9, 30, tzinfo=SH), "new", "acknowledged"),
        _change(
            dt.datetime(2025, 9, 30, 10, 0, tzinfo=SH),
            "acknowledged",
            "on_hold",
            "plant room locked over the holiday",
        ),
        _change(dt.datetime(2025, 10, 9, 10, 30, tzinfo=SH), "on_hold", "in_progress"),
    )
    res = state.resolution
    assert res is not None
    # before the hold: Mon 29 Sep 09:00-12:00 3 h + 13:30-17:30 4 h; Tue 30 Sep 08:30-10:00 1.5 h
    # after it: Thu 9 Oct 10:30-11:00 0.5 h.  7 + 1.5 + 0.5 = 9 h
    assert res.elapsed_seconds == 9 * H
    # on hold 9 days on the wall clock, but only: Tue 30 Sep 10:00-12:00 2 h + 13:30-17:30 4 h;
    # 1-8 Oct nothing; Thu 9 Oct 08:30-10:30 2 h.  = 8 h
    assert res.paused_seconds == 8 * H
    assert res.remaining_seconds == 6 * H  # 15 h - 9 h
    # 6 h from Thu 9 Oct 11:00: 11:00-12:00 1 h + 13:30-17:30 4 h (5 h); Fri 10 Oct 08:30 + 1 h.
    # Check: without the hold, due = Thu 9 Oct 09:00 (Mon 7 h + Tue 7.5 h + 0.5 h);
    # plus 8 h paused working time = Fri 10 Oct 09:30 as well.
    assert res.due_at == dt.datetime(2025, 10, 10, 9, 30, tzinfo=SH)
    assert not res.breached


def test_hold_starting_exactly_at_due_breaches_when_work_resumes() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 3, 14, 30, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 5, tzinfo=SH), "new", "acknowledged"),
        # 09:00 + 4 h = 13:00: the hold starts with no time left, so nothing is late yet
        _change(dt.datetime(2025, 3, 3, 13, 0, tzinfo=SH), "acknowledged", "on_hold", "parts"),
        _change(dt.datetime(2025, 3, 3, 14, 0, tzinfo=SH), "on_hold", "in_progress"),
    )
    res = state.resolution
    assert res is not None
    assert res.due_at == dt.datetime(2025, 3, 3, 13, 0, tzinfo=SH)
    assert res.paused_seconds == 1 * H  # 13:00 -> 14:00
    assert res.remaining_seconds == -0.5 * H  # 4 h - (4 h + 14:00 -> 14:30)
    assert state.events[-1] == SlaEvent(
        # the clock runs past its target from the moment work resumes
        "breach",
        "resolution",
        dt.datetime(2025, 3, 3, 14, 0, tzinfo=SH),
    )


# ---------------------------------------------------------------- warnings, breaches, offline


def test_warning_and_breach_instants_on_business_hours() -> None:
    created = dt.datetime(2025, 10, 9, 10, 0, tzinfo=SH)  # Thu
    now = dt.datetime(2025, 10, 11, 12, 0, tzinfo=SH)  # Sat, a make-up working day
    state = _sla(P2_BUSINESS_1D, created, now)
    res = state.resolution
    assert state.response is None  # the policy sets no response target
    assert res is not None
    assert state.events == (
        # 80% of 7.5 h = 6 h: Thu 10:00-12:00 2 h + 13:30-17:30 4 h = Thu 17:30 sharp
        SlaEvent("warning", "resolution", dt.datetime(2025, 10, 9, 17, 30, tzinfo=SH)),
        # 7.5 h: Thu 6 h; Fri 10 Oct 08:30 + 1.5 h = 10:00
        SlaEvent("breach", "resolution", dt.datetime(2025, 10, 10, 10, 0, tzinfo=SH)),
    )
    assert res.due_at == dt.datetime(2025, 10, 10, 10, 0, tzinfo=SH)
    # used: Thu 6 h + Fri 7.5 h + Sat 11 Oct 08:30-12:00 3.5 h = 17 h
    assert res.elapsed_seconds == 17 * H
    assert res.remaining_seconds == 7.5 * H - 17 * H
    assert res.breached and res.warned


def test_events_do_not_depend_on_when_the_computation_runs() -> None:
    created = dt.datetime(2025, 10, 9, 10, 0, tzinfo=SH)
    early = _sla(P2_BUSINESS_1D, created, dt.datetime(2025, 10, 10, 10, 1, tzinfo=SH))
    late = _sla(P2_BUSINESS_1D, created, dt.datetime(2025, 11, 3, 9, 0, tzinfo=SH))
    assert early.events == late.events
    before_warning = _sla(P2_BUSINESS_1D, created, dt.datetime(2025, 10, 9, 17, 29, tzinfo=SH))
    assert before_warning.events == ()
    # Thu 17:30 -> Fri 10:00 is 17:30-08:30 overnight (no working time) + 1.5 h
    at_warning = _sla(P2_BUSINESS_1D, created, dt.datetime(2025, 10, 9, 20, 0, tzinfo=SH))
    assert [e.kind for e in at_warning.events] == ["warning"]
    assert at_warning.resolution is not None
    assert at_warning.resolution.remaining_seconds == 1.5 * H


def test_open_after_due_with_no_working_time_since_is_breached() -> None:
    policy = _policy(name="4h", priority="P2", resolution="4h", calendar="business")
    created = dt.datetime(2025, 10, 9, 13, 30, tzinfo=SH)
    # 13:30 + 4 h = 17:30; at 18:00 no working time has passed since, but the due time has
    state = _sla(policy, created, dt.datetime(2025, 10, 9, 18, 0, tzinfo=SH))
    assert state.resolution is not None
    assert state.resolution.due_at == dt.datetime(2025, 10, 9, 17, 30, tzinfo=SH)
    assert state.resolution.breached and state.resolution.remaining_seconds == 0
    assert state.events[-1] == SlaEvent(
        "breach", "resolution", dt.datetime(2025, 10, 9, 17, 30, tzinfo=SH)
    )


def test_offline_resolve_synced_late_counts_at_its_own_time() -> None:
    created = dt.datetime(2025, 10, 9, 10, 0, tzinfo=SH)
    synced_at = dt.datetime(2025, 10, 10, 11, 30, tzinfo=SH)  # after the 10:00 due time
    resolved_offline = _change(
        dt.datetime(2025, 10, 10, 9, 45, tzinfo=SH), "in_progress", "resolved"
    )
    started = _change(dt.datetime(2025, 10, 9, 10, 5, tzinfo=SH), "new", "in_progress")

    # before the tablet synced, the server saw an open job past its due time
    before_sync = _sla(P2_BUSINESS_1D, created, synced_at, started)
    assert before_sync.resolution is not None and before_sync.resolution.breached

    # the resolve arrives at 11:30 carrying at=09:45: it counts at 09:45, before the due time
    state = _sla(P2_BUSINESS_1D, created, synced_at, started, resolved_offline)
    res = state.resolution
    assert res is not None
    assert res.met_at == dt.datetime(2025, 10, 10, 9, 45, tzinfo=SH)
    assert not res.breached
    # used: Thu 10:00-17:30 6 h + Fri 08:30-09:45 1.25 h = 7.25 h; 15 min to spare
    assert res.elapsed_seconds == 7.25 * H
    assert res.remaining_seconds == 0.25 * H
    assert state.events == (
        SlaEvent("warning", "resolution", dt.datetime(2025, 10, 9, 17, 30, tzinfo=SH)),
    )

    # order of arrival does not matter either: the late change may come first in the list
    shuffled = _sla(P2_BUSINESS_1D, created, synced_at, resolved_offline, started)
    assert shuffled == state


def test_changes_after_now_are_not_counted() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 3, 9, 15, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 20, tzinfo=SH), "new", "acknowledged"),
    )
    assert state.response is not None and state.response.met_at is None
    assert state.response.elapsed_seconds == 15 * 60


# ---------------------------------------------------------------- reopen, cancel


@pytest.mark.parametrize("closed_as", ["resolved", "closed"])
def test_reopen_restarts_the_resolution_clock(closed_as: str) -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    history = [
        _change(dt.datetime(2025, 3, 3, 9, 10, tzinfo=SH), "new", "acknowledged"),
        _change(dt.datetime(2025, 3, 3, 10, 30, tzinfo=SH), "acknowledged", "resolved"),
        _change(dt.datetime(2025, 3, 3, 14, 0, tzinfo=SH), closed_as, "in_progress"),
    ]
    if closed_as == "closed":
        history.insert(2, _change(dt.datetime(2025, 3, 3, 11, 0, tzinfo=SH), "resolved", "closed"))
    state = _sla(P1_24X7, created, dt.datetime(2025, 3, 3, 15, 0, tzinfo=SH), *history)
    res = state.resolution
    assert res is not None
    assert res.met_at is None and res.state == "running"
    # 09:00 -> 10:30 1.5 h, stopped 10:30 -> 14:00, runs again 14:00 -> 15:00 1 h = 2.5 h
    assert res.elapsed_seconds == 2.5 * H
    # 1.5 h left from 15:00 (= 13:00 + the 3.5 h between resolve and reopen)
    assert res.due_at == dt.datetime(2025, 3, 3, 16, 30, tzinfo=SH)
    assert state.response is not None and state.response.met_at == dt.datetime(
        2025, 3, 3, 9, 10, tzinfo=SH
    )

    history.append(_change(dt.datetime(2025, 3, 3, 17, 0, tzinfo=SH), "in_progress", "resolved"))
    again = _sla(P1_24X7, created, dt.datetime(2025, 3, 3, 18, 0, tzinfo=SH), *history)
    assert again.resolution is not None
    assert again.resolution.met_at == dt.datetime(2025, 3, 3, 17, 0, tzinfo=SH)
    assert again.resolution.elapsed_seconds == 4.5 * H  # 1.5 h + 14:00 -> 17:00 3 h
    assert again.events == (
        # 80% of 4 h = 3 h 12 min; 1 h 30 min used before the reopen, 1 h 42 min after 14:00
        SlaEvent("warning", "resolution", dt.datetime(2025, 3, 3, 15, 42, tzinfo=SH)),
        SlaEvent("breach", "resolution", dt.datetime(2025, 3, 3, 16, 30, tzinfo=SH)),
    )


def test_cancel_stops_both_clocks() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 4, 9, 0, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 10, tzinfo=SH), "new", "cancelled"),
    )
    assert state.response is not None and state.resolution is not None
    assert state.response.state == state.resolution.state == "cancelled"
    assert state.resolution.elapsed_seconds == 10 * 60
    assert state.events == ()


def test_resolving_directly_also_meets_the_response_target() -> None:
    created = dt.datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    state = _sla(
        P1_24X7,
        created,
        dt.datetime(2025, 3, 3, 10, 0, tzinfo=SH),
        _change(dt.datetime(2025, 3, 3, 9, 25, tzinfo=SH), "new", "resolved"),
    )
    assert state.response is not None
    assert state.response.met_at == dt.datetime(2025, 3, 3, 9, 25, tzinfo=SH)
    assert not state.response.breached


# ---------------------------------------------------------------- calendars


def test_week_long_target_walks_day_by_day() -> None:
    looked_up: list[dt.date] = []

    def workday(day: dt.date) -> bool:
        looked_up.append(day)
        return bool(chinese_calendar.is_workday(day))

    calendar = BusinessCalendar(is_workday=workday)
    start = dt.datetime(2025, 9, 29, 9, 0, tzinfo=SH)  # Mon
    # 7 working days = 52.5 h: Mon 29 Sep 7 h, Tue 30 Sep 7.5 h (14.5 h); 1-8 Oct off;
    # Thu 9, Fri 10, Sat 11 (make-up), Mon 13, Tue 14 Oct 37.5 h (52 h); Wed 15 Oct 08:30 + 0.5 h
    assert calendar.add_working_time(start, 7 * DAY) == dt.datetime(2025, 10, 15, 9, 0, tzinfo=SH)
    assert len(looked_up) == 17  # one look-up per calendar day, 29 Sep to 15 Oct
    assert calendar.working_seconds(start, dt.datetime(2025, 10, 15, 9, 0, tzinfo=SH)) == 7 * DAY


def test_always_calendar_counts_every_second() -> None:
    start = dt.datetime(2025, 10, 1, 0, 0, tzinfo=SH)
    assert AlwaysCalendar().add_working_time(start, 86400) == dt.datetime(
        2025, 10, 2, 0, 0, tzinfo=SH
    )
    assert AlwaysCalendar().working_seconds(start, start - dt.timedelta(hours=1)) == 0


def test_days_mean_working_days_on_a_business_calendar() -> None:
    assert P3_BUSINESS.resolution == 2 * DAY
    assert _policy(name="x", priority="P3", resolution="2d").resolution == 2 * 86400
    assert _policy(name="x", priority="P3", resolution="90m").resolution == 90 * 60


@pytest.mark.parametrize(
    "bad",
    [
        {"hours": ["12:00-08:30"]},
        {"hours": ["08:30-12:00", "11:00-17:30"]},
        {"hours": ["8.30-12"]},
        {"timezone": "Asia/Nowhere"},
        {"warn_at": 1.5},
        {"resolution": "0m"},
        {"calendar": "lunar"},
    ],
)
def test_policy_refuses_bad_settings(bad: dict[str, object]) -> None:
    settings: dict[str, object] = {"name": "x", "priority": "P3", "calendar": "business"} | bad
    with pytest.raises(ValueError):
        SlaPolicy.model_validate(settings)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_sla(
            created_at=dt.datetime(2025, 3, 3, 9, 0),
            policy=P1_24X7,
            changes=[],
            now=dt.datetime(2025, 3, 3, 10, 0, tzinfo=SH),
        )


def test_a_calendar_walk_into_an_unknown_year_without_a_missing_set_names_the_year() -> None:
    created = dt.datetime(2026, 12, 31, 14, 0, tzinfo=SH)
    calendar = P3_BUSINESS.work_calendar
    # 31 Dec 14:00-17:30 is 3.5 h; the rest of 2 d falls in 2027, which nobody has loaded
    with pytest.raises(UnknownHolidayYear, match="2027") as caught:
        calendar.add_working_time(created, 2 * DAY)
    assert caught.value.year == 2027
    # a range that ends inside 2026 never asks about 2027
    end = dt.datetime(2026, 12, 31, 23, 59, tzinfo=SH)
    assert calendar.working_seconds(created, end) == 3.5 * H


# ---------------------------------------------------------------- holds and policy lookup


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_hold_without_reason_is_refused(reason: str | None) -> None:
    with pytest.raises(HoldWithoutReason) as caught:
        check_hold(reason)
    assert caught.value.status_code == 422
    assert caught.value.error == "hold_reason_required"


def test_hold_with_reason_is_accepted() -> None:
    assert check_hold("  waiting for a pump seal  ") == "waiting for a pump seal"


def test_policy_lookup_prefers_the_contractors_policy() -> None:
    general = _policy(name="P2", priority="P2", response="1h", resolution="24h")
    lift_co = _policy(
        name="P2 lift contractor", priority="P2", contractor_id=7, response="30m", resolution="8h"
    )
    p1 = _policy(name="P1", priority="P1", response="30m", resolution="4h")
    policies = [general, p1, lift_co]
    assert policy_for(policies, "P2", 7) is lift_co
    assert policy_for(policies, "P2", 8) is general
    assert policy_for(policies, "P2", None) is general
    assert policy_for(policies, "P1", 7) is p1
    with pytest.raises(NoSlaPolicy, match="P4"):
        policy_for(policies, "P4", 7)
    with pytest.raises(AmbiguousSlaPolicy, match="P2"):
        policy_for([*policies, general.model_copy(update={"name": "P2 again"})], "P2", None)
