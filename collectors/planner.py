"""Plan the fewest Modbus reads that cover a device's points.

Points are merged into reads of at most the device's request limit (125 registers, or 2000
bits for coils and discrete inputs), spanning holes of up to ``max_gap`` registers. After a sort,
the merge is one pass: no search over combinations (Telegraf's removed 'aggressive' optimiser
could hang at O(N!)).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from collectors.decode import RequestDecoder, request_decoder
from config.profile import Point, Profile, RegisterTable

MAX_REGISTERS = 125
MAX_BITS = 2000


@dataclass(frozen=True)
class ReadRequest:
    """One Modbus read and the points it serves."""

    table: RegisterTable
    address: int
    count: int
    points: tuple[Point, ...]
    group: str = "default"

    def slice_for(self, point: Point, values: list[int] | list[bool]) -> list[int] | list[bool]:
        """The registers (or bits) of one point out of this request's reply."""
        start = point.address - self.address
        return values[start : start + point.registers]

    @cached_property
    def decode(self) -> RequestDecoder:
        """Reads every point's raw value out of this request's reply, built once."""
        return request_decoder(self.points, self.address)


def plan(
    points: Iterable[Point],
    *,
    max_registers: int = MAX_REGISTERS,
    max_gap: int = 10,
    one_per_point: bool = False,
) -> list[ReadRequest]:
    """Merge points into read requests; see the module docstring."""
    by_key: dict[tuple[str, RegisterTable], list[Point]] = defaultdict(list)
    for p in points:
        by_key[(p.group, p.table)].append(p)
    requests: list[ReadRequest] = []
    for (group, table), pts in sorted(by_key.items()):
        limit = min(MAX_BITS, max_registers * 16) if table.is_bits else max_registers
        pts.sort(key=lambda p: (p.address, p.registers))
        if one_per_point:
            requests += [ReadRequest(table, p.address, p.registers, (p,), group) for p in pts]
            continue
        start = end = -1
        current: list[Point] = []
        for p in pts:
            p_end = p.address + p.registers - 1
            if current and p.address - end - 1 <= max_gap and max(end, p_end) - start + 1 <= limit:
                current.append(p)
                end = max(end, p_end)
                continue
            if current:
                requests.append(ReadRequest(table, start, end - start + 1, tuple(current), group))
            start, end, current = p.address, p_end, [p]
        if current:
            requests.append(ReadRequest(table, start, end - start + 1, tuple(current), group))
    return requests


def plan_profile(profile: Profile) -> list[ReadRequest]:
    """Plan a whole profile with its own limits."""
    return plan(
        profile.points,
        max_registers=profile.max_request_registers,
        max_gap=profile.max_gap,
        one_per_point=profile.one_request_per_point,
    )
