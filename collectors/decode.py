"""Turn registers into engineering values and back, for every type and byte order of a profile.

Byte orders name the wire position of each byte of the big-endian value: 'CDAB' means the wire
carries the value's bytes C, D, A, B (word-swapped), 'BA' a byte-swapped 16-bit register.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from collectors.readings import Quality
from config.profile import Point, PointType

_STRUCT = {
    PointType.int16: ">h",
    PointType.uint16: ">H",
    PointType.int32: ">i",
    PointType.uint32: ">I",
    PointType.int64: ">q",
    PointType.uint64: ">Q",
    PointType.float32: ">f",
    PointType.float64: ">d",
}


_IDENTITY = frozenset({"AB", "ABCD", "ABCDEFGH"})


def _wire_to_be(wire: bytes, order: str) -> bytes:
    if order in _IDENTITY:
        return wire
    out = bytearray(len(order))
    for i, letter in enumerate(order):
        out[ord(letter) - 65] = wire[i]
    return bytes(out)


def _be_to_wire(be: bytes, order: str) -> bytes:
    return bytes(be[ord(letter) - 65] for letter in order)


def _regs_to_bytes(regs: Sequence[int]) -> bytes:
    return struct.pack(f">{len(regs)}H", *(r & 0xFFFF for r in regs))


def _bytes_to_regs(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def decode_raw(point: Point, regs: Sequence[int] | Sequence[bool]) -> float | int | str | bool:
    """The raw value of a point from exactly point.registers registers (or one bit)."""
    if len(regs) != point.registers:
        raise ValueError(f"{point.name}: expected {point.registers} registers, got {len(regs)}")
    if point.type is PointType.bool:
        return bool(regs[0])
    if point.type is PointType.bit:
        word = _wire_to_be(_regs_to_bytes(regs), point.order)
        return bool((int.from_bytes(word, "big") >> (point.bit or 0)) & 1)
    data = _regs_to_bytes(regs)
    if point.type is PointType.string:
        if point.order == "BA":
            data = b"".join(data[i : i + 2][::-1] for i in range(0, len(data), 2))
        return data.split(b"\x00", 1)[0].decode("latin-1").strip()
    (value,) = struct.unpack(_STRUCT[point.type], _wire_to_be(data, point.order))
    return value


def encode_raw(point: Point, raw: float | int | str | bool) -> list[int] | list[bool]:
    """Registers (or one bit) that decode_raw turns back into raw; used by the simulator."""
    if point.type is PointType.bool:
        return [bool(raw)]
    if point.type is PointType.bit:
        word = (1 << (point.bit or 0)) if raw else 0
        return _bytes_to_regs(_be_to_wire(word.to_bytes(2, "big"), point.order))
    if point.type is PointType.string:
        n = (point.length or 1) * 2
        data = str(raw).encode("latin-1")[:n].ljust(n, b"\x00")
        if point.order == "BA":
            data = b"".join(data[i : i + 2][::-1] for i in range(0, len(data), 2))
        return _bytes_to_regs(data)
    fmt = _STRUCT[point.type]
    if point.type not in (PointType.float32, PointType.float64):
        # An int stays exact: float() would round 64-bit values to 53 bits.
        raw = raw if isinstance(raw, int) else round(float(raw))
        bits = struct.calcsize(fmt) * 8
        lo, hi = (0, 2**bits - 1) if fmt[1].isupper() else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        raw = min(max(raw, lo), hi)
    return _bytes_to_regs(_be_to_wire(struct.pack(fmt, raw), point.order))


def to_engineering(
    point: Point, raw: float | int | str | bool
) -> tuple[float | str | None, Quality]:
    """Apply sentinels, scale, offset and the valid range to a raw value."""
    if isinstance(raw, str):
        return raw, Quality.good
    if isinstance(raw, bool):
        return (1.0 if raw else 0.0), Quality.good
    if point.sentinels and raw in point.sentinels:
        return None, Quality.unavailable
    if isinstance(raw, float) and not math.isfinite(raw):
        return None, Quality.unavailable
    value = raw * point.scale + point.offset
    if (point.min is not None and value < point.min) or (
        point.max is not None and value > point.max
    ):
        return value, Quality.out_of_range
    return value, Quality.good


def from_engineering(point: Point, value: float | str | bool) -> float | int | str | bool:
    """Inverse of the scale and offset, for the simulator."""
    if isinstance(value, str | bool) or point.type in (PointType.bool, PointType.bit):
        return value
    return (value - point.offset) / point.scale if point.scale else 0
