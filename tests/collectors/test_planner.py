"""The read planner: the fewest Modbus requests that cover a device's points, within the limits
of the protocol (125 registers, 2000 bits) and of the device."""

from __future__ import annotations

import random
from typing import Any

from collectors.planner import ReadRequest, plan, plan_profile
from config.profile import Point, Profile, RegisterTable
from config.site import SiteConfig


def point(address: int, type_: str = "uint16", register: str = "holding", **extra: Any) -> Point:
    """A point named after its table and address."""
    data = {"name": f"{register}_{address}", "register": register, "address": address}
    if register in ("coil", "discrete"):
        type_ = "bool"
    return Point.model_validate({**data, "type": type_, **extra})


def spans(requests: list[ReadRequest]) -> list[tuple[str, int, int]]:
    """(table, address, count) of each request, in plan order."""
    return [(str(r.table), r.address, r.count) for r in requests]


def served(requests: list[ReadRequest]) -> list[str]:
    """Names of the points the requests serve, in request order."""
    return [p.name for r in requests for p in r.points]


def test_consecutive_registers_merge_into_one_read() -> None:
    requests = plan([point(0), point(1), point(2)])
    assert spans(requests) == [("holding", 0, 3)]
    assert served(requests) == ["holding_0", "holding_1", "holding_2"]


def test_consecutive_float32_points_merge_into_one_read() -> None:
    # 0-1, 2-3, 4-5: six registers
    requests = plan([point(0, "float32"), point(2, "float32"), point(4, "float32")])
    assert spans(requests) == [("holding", 0, 6)]


def test_points_are_planned_in_address_order_whatever_order_they_are_listed_in() -> None:
    requests = plan([point(2), point(0), point(1)])
    assert spans(requests) == [("holding", 0, 3)]
    assert served(requests) == ["holding_0", "holding_1", "holding_2"]


def test_hole_up_to_max_gap_is_read_through() -> None:
    # Registers 1..10 are unused: a hole of 10 registers, within max_gap 10.
    requests = plan([point(0), point(11)], max_gap=10)
    assert spans(requests) == [("holding", 0, 12)]


def test_hole_larger_than_max_gap_splits_the_read() -> None:
    # Registers 1..11 are unused: a hole of 11 registers.
    requests = plan([point(0), point(12)], max_gap=10)
    assert spans(requests) == [("holding", 0, 1), ("holding", 12, 1)]


def test_max_gap_zero_merges_only_adjacent_points() -> None:
    requests = plan([point(0), point(1), point(3)], max_gap=0)
    assert spans(requests) == [("holding", 0, 2), ("holding", 3, 1)]


def test_no_read_exceeds_125_registers() -> None:
    # 200 adjacent registers: 125 + 75
    requests = plan([point(a) for a in range(200)])
    assert spans(requests) == [("holding", 0, 125), ("holding", 125, 75)]


def test_a_point_is_never_split_across_two_reads() -> None:
    # 100 float32 at 0, 2, ..., 198: 62 points fill 124 registers; the 63rd (124-125) would
    # make 126, so it starts the next read, which holds the other 38 points (76 registers).
    requests = plan([point(a, "float32") for a in range(0, 200, 2)])
    assert spans(requests) == [("holding", 0, 124), ("holding", 124, 76)]
    assert [len(r.points) for r in requests] == [62, 38]


def test_device_request_limit_is_respected() -> None:
    requests = plan([point(a) for a in range(25)], max_registers=10)
    assert spans(requests) == [("holding", 0, 10), ("holding", 10, 10), ("holding", 20, 5)]


def test_hole_is_not_read_through_when_it_would_pass_the_request_limit() -> None:
    # 0 and 9 would need a 10-register read; the device accepts 8.
    requests = plan([point(0), point(9)], max_registers=8, max_gap=10)
    assert spans(requests) == [("holding", 0, 1), ("holding", 9, 1)]


def test_coil_reads_hold_at_most_2000_bits() -> None:
    requests = plan([point(a, register="coil") for a in range(4500)])
    assert spans(requests) == [("coil", 0, 2000), ("coil", 2000, 2000), ("coil", 4000, 500)]


def test_discrete_input_reads_hold_at_most_2000_bits() -> None:
    requests = plan([point(a, register="discrete") for a in range(2001)])
    assert spans(requests) == [("discrete", 0, 2000), ("discrete", 2000, 1)]


def test_one_per_point_gives_each_point_its_own_read() -> None:
    requests = plan([point(0), point(1, "float32"), point(3)], one_per_point=True)
    assert spans(requests) == [("holding", 0, 1), ("holding", 1, 2), ("holding", 3, 1)]
    assert [len(r.points) for r in requests] == [1, 1, 1]


def test_profile_one_request_per_point_is_honoured() -> None:
    profile = Profile.model_validate(
        {
            "profile": "picky",
            "one_request_per_point": True,
            "points": [
                {"name": "a", "register": "holding", "address": 0, "type": "uint16"},
                {"name": "b", "register": "holding", "address": 1, "type": "uint16"},
            ],
        }
    )
    assert spans(plan_profile(profile)) == [("holding", 0, 1), ("holding", 1, 1)]


def test_profile_max_request_registers_and_max_gap_are_honoured() -> None:
    profile = Profile.model_validate(
        {
            "profile": "small_reads",
            "max_request_registers": 4,
            "max_gap": 0,
            "points": [
                {"name": f"r{a}", "register": "input", "address": a, "type": "uint16"}
                for a in (0, 1, 2, 3, 4, 6)
            ],
        }
    )
    # 0-3 fill the 4-register limit; 4 starts a new read; 5 is a hole and max_gap is 0.
    assert spans(plan_profile(profile)) == [("input", 0, 4), ("input", 4, 1), ("input", 6, 1)]


def test_poll_groups_are_read_separately() -> None:
    fast, slow = point(0), point(1, group="slow")
    requests = plan([fast, slow])
    assert sorted((r.group, r.address, r.count) for r in requests) == [
        ("default", 0, 1),
        ("slow", 1, 1),
    ]
    assert all(p.group == r.group for r in requests for p in r.points)


def test_register_tables_are_read_separately() -> None:
    requests = plan([point(0, register="holding"), point(1, register="input")])
    assert sorted(spans(requests)) == [("holding", 0, 1), ("input", 1, 1)]


def test_bit_point_on_a_word_point_shares_its_read() -> None:
    status = point(3)
    running = Point.model_validate(
        {"name": "running", "register": "holding", "address": 3, "type": "bit", "bit": 2}
    )
    requests = plan([point(2), status, running, point(4)])
    assert spans(requests) == [("holding", 2, 3)]
    assert len(requests[0].points) == 4


def test_sdm630_needs_at_least_five_times_fewer_reads_than_points(demo_site: SiteConfig) -> None:
    profile = demo_site.profiles["sdm630"]
    requests = plan_profile(profile)
    assert len(profile.points) >= 5 * len(requests)


def test_sdm630_reads_are_the_three_blocks_of_its_register_map(demo_site: SiteConfig) -> None:
    # From the register map (float32 = 2 registers, max_gap 10):
    #   0x00-0x11 voltages, currents, powers: 0..17, no holes                -> 0, 18
    #   0x34 total W .. 0x54 demand: holes of 2, 2, 0, 6, 0, 0, 8 (all <= 10) -> 52, 34
    #     (the hole from 0x12 to 0x33 is 34 registers, so 0x34 starts a new read)
    #   0x156 total kWh: far away                                             -> 342, 2
    requests = plan_profile(demo_site.profiles["sdm630"])
    assert spans(requests) == [("input", 0, 18), ("input", 52, 34), ("input", 342, 2)]


def test_each_point_gets_exactly_its_own_registers_from_the_reply(
    demo_site: SiteConfig,
) -> None:
    for profile in demo_site.profiles.values():
        for request in plan_profile(profile):
            # A reply whose every register holds its own address.
            reply = list(range(request.address, request.address + request.count))
            for p in request.points:
                want = list(range(p.address, p.address + p.registers))
                assert request.slice_for(p, reply) == want, (profile.profile, p.name)


def test_every_point_is_served_by_exactly_one_read(demo_site: SiteConfig) -> None:
    for profile in demo_site.profiles.values():
        names = served(plan_profile(profile))
        assert sorted(names) == sorted(p.name for p in profile.points), profile.profile


def test_planning_100000_points_is_still_correct() -> None:
    # 50,000 holding and 50,000 input registers, each table fully packed, listed shuffled:
    # 50,000 / 125 = 400 full reads per table.
    template = point(0)
    tables = (RegisterTable.holding, RegisterTable.input)
    points = [
        template.model_copy(update={"name": f"p{i}", "address": i // 2, "table": tables[i % 2]})
        for i in range(100_000)
    ]
    random.Random(7).shuffle(points)
    requests = plan(points)
    assert len(requests) == 800
    for table in ("holding", "input"):
        mine = [(a, c) for t, a, c in spans(requests) if t == table]
        assert mine == [(a, 125) for a in range(0, 50_000, 125)]
    assert sorted(served(requests)) == sorted(p.name for p in points)
    for request in requests:
        for p in request.points:
            assert request.address <= p.address < request.address + request.count
