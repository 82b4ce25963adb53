"""Turn registers into engineering values and back, for every type and byte order of a profile.

Byte orders name the wire position of each byte of the big-endian value: 'CDAB' means the wire
carries the value's bytes C, D, A, B (word-swapped), 'BA' a byte-swapped 16-bit register.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence

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


#: A point's raw value out of a whole reply: (the reply's registers packed big-endian, the
#: reply's values) -> raw. Bit tables have no packed form and use the values.
RawDecoder = Callable[[bytes, Sequence[int] | Sequence[bool]], float | int | str | bool]


def pack_registers(regs: Sequence[int]) -> bytes:
    """Registers as big-endian bytes, the form a RawDecoder reads."""
    try:
        return struct.pack(f">{len(regs)}H", *regs)
    except struct.error:  # out-of-range values: keep their low 16 bits, as the wire would
        return _regs_to_bytes(regs)


def raw_decoder(point: Point, start: int = 0) -> RawDecoder:
    """A RawDecoder for point, whose first register is register ``start`` of the reply.

    Built once per planned request, so polling does no per-reading work beyond unpacking:
    the common big-endian numeric case is a single ``struct.unpack_from``.
    """
    if point.type is PointType.bool:
        return lambda data, values: bool(values[start])
    lo, hi = start * 2, (start + point.registers) * 2
    order = point.order
    if point.type is PointType.bit:
        mask = 1 << (point.bit or 0)
        return lambda data, values: bool(
            int.from_bytes(_wire_to_be(data[lo:hi], order), "big") & mask
        )
    if point.type is PointType.string:
        swap = order == "BA"

        def text(data: bytes, values: Sequence[int] | Sequence[bool]) -> str:
            chunk = data[lo:hi]
            if swap:
                chunk = b"".join(chunk[i : i + 2][::-1] for i in range(0, len(chunk), 2))
            return chunk.split(b"\x00", 1)[0].decode("latin-1").strip()

        return text
    fmt = struct.Struct(_STRUCT[point.type])
    if order in _IDENTITY:
        return lambda data, values: fmt.unpack_from(data, lo)[0]
    return lambda data, values: fmt.unpack(_wire_to_be(data[lo:hi], order))[0]


#: Every raw value of a request's points, in point order, out of the request's reply values;
#: None in place of a point that cannot be decoded.
RequestDecoder = Callable[[Sequence[int] | Sequence[bool]], list[float | int | str | bool | None]]


def request_decoder(points: Sequence[Point], base: int) -> RequestDecoder:
    """A RequestDecoder for points planned into one read starting at register ``base``.

    When every point is a big-endian number and none overlap, which is most meters' register
    maps, the whole reply is unpacked by one precompiled struct format, with pad bytes for the
    gaps. Otherwise each point is read by its own RawDecoder.
    """
    spans = sorted(((p.address - base, p) for p in points), key=lambda sp: sp[0])
    simple = not any(p.table.is_bits for p in points) and all(
        p.type in _STRUCT and p.order in _IDENTITY for p in points
    )
    fmt, end = ">", 0
    for start, p in spans:
        if start < end:
            simple = False  # overlapping points: decode one by one
            break
        if simple:
            fmt += "x" * ((start - end) * 2) + _STRUCT[p.type][1:]
        end = start + p.registers
    if simple and [p for _, p in spans] == list(points):
        whole = struct.Struct(fmt)
        return lambda values: list(whole.unpack_from(pack_registers(values)))
    one = [raw_decoder(p, p.address - base) for p in points]
    bits = any(p.table.is_bits for p in points)

    def each(values: Sequence[int] | Sequence[bool]) -> list[float | int | str | bool | None]:
        data = b"" if bits else pack_registers(values)
        out: list[float | int | str | bool | None] = []
        for d in one:
            try:
                out.append(d(data, values))
            except (ValueError, UnicodeDecodeError, struct.error):
                out.append(None)
        return out

    return each


def decode_raw(point: Point, regs: Sequence[int] | Sequence[bool]) -> float | int | str | bool:
    """The raw value of a point from exactly point.registers registers (or one bit)."""
    if len(regs) != point.registers:
        raise ValueError(f"{point.name}: expected {point.registers} registers, got {len(regs)}")
    data = b"" if point.table.is_bits else pack_registers(regs)
    return raw_decoder(point)(data, regs)


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
) -> tuple[float | int | str | None, Quality]:
    """Apply sentinels, scale, offset and the valid range to a raw value.

    An integer point without scale or offset (Point.integral) keeps its raw int, exactly;
    every other number becomes a float.
    """
    if isinstance(raw, str):
        return raw, Quality.good
    if isinstance(raw, bool):
        return (1.0 if raw else 0.0), Quality.good
    if point.sentinels and raw in point.sentinels:
        return None, Quality.unavailable
    if isinstance(raw, float) and not math.isfinite(raw):
        return None, Quality.unavailable
    # `raw * 1.0 + 0.0` would make a counter a float and round a 64-bit one to 53 bits.
    value = raw if isinstance(raw, int) and point.integral else raw * point.scale + point.offset
    if (point.min is not None and value < point.min) or (
        point.max is not None and value > point.max
    ):
        return value, Quality.out_of_range
    return value, Quality.good


def from_engineering(point: Point, value: float | str | bool) -> float | int | str | bool:
    """Inverse of the scale and offset, for the simulator; an int of an integral point stays
    exact."""
    if isinstance(value, str | bool) or point.type in (PointType.bool, PointType.bit):
        return value
    if isinstance(value, int) and point.integral:
        return value
    return (value - point.offset) / point.scale if point.scale else 0
