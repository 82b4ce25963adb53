"""Decoding registers into values: every type and byte order against byte examples worked out
by hand, scale and offset, sentinels, NaN, the valid range, and encode/decode round trips.

Worked examples (big-endian bytes A B C D ... of each value):
  float32 230.0  = 0x4366_0000            (1.796875 x 2^7: exponent 134 = 0x86, mantissa .110011)
  float32 pi     = 0x4049_0FDB            (IEEE-754 single nearest to pi)
  float64 230.0  = 0x406C_C000_0000_0000  (exponent 1030 = 0x406, mantissa .110011)
  float64 pi     = 0x4009_21FB_5444_2D18  (IEEE-754 double nearest to pi)
  int32 -123456  = 0xFFFE_1DC0            (123456 = 0x0001_E240; two's complement)
  uint32         = 0x1234_5678 = 305419896
  uint64         = 0x0102_0304_0506_0708 = 72623859790382856
  int64          = 0xFEFD_FCFB_FAF9_F8F7 = NOT 0x0102...08 = -72623859790382857
A byte order lists which byte of the value travels in each wire position: CDAB sends C D A B.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from collectors.decode import decode_raw, encode_raw, from_engineering, to_engineering
from collectors.readings import Quality
from config.profile import BYTE_ORDERS_BY_WIDTH, Point


def point(type_: str, order: str | None = None, register: str = "holding", **extra: Any) -> Point:
    """A point at address 0, written as a profile would write it."""
    data: dict[str, Any] = {"name": "p", "register": register, "address": 0, "type": type_}
    if order is not None:
        data["byte_order"] = order
    return Point.model_validate({**data, **extra})


def read(p: Point, regs: list[int] | list[bool]) -> tuple[float | int | str | None, Quality]:
    """What the collector makes of one point's registers."""
    return to_engineering(p, decode_raw(p, regs))


# (type, byte order, registers on the wire, value)
WORKED: list[tuple[str, str, list[int], int | float]] = [
    # 16-bit: 0x1234 = 4660; BA swaps the two bytes of the register.
    ("uint16", "AB", [0x1234], 4660),
    ("uint16", "BA", [0x3412], 4660),
    ("uint16", "AB", [0xFFFE], 65534),
    ("int16", "AB", [0xFFFE], -2),
    ("int16", "BA", [0xFEFF], -2),
    ("int16", "AB", [0x8000], -32768),
    ("int16", "BA", [0x0080], -32768),
    # float32 230.0 = 0x43660000
    ("float32", "ABCD", [0x4366, 0x0000], 230.0),
    ("float32", "CDAB", [0x0000, 0x4366], 230.0),
    ("float32", "BADC", [0x6643, 0x0000], 230.0),
    ("float32", "DCBA", [0x0000, 0x6643], 230.0),
    # int32 -123456 = 0xFFFE1DC0
    ("int32", "ABCD", [0xFFFE, 0x1DC0], -123456),
    ("int32", "CDAB", [0x1DC0, 0xFFFE], -123456),
    ("int32", "BADC", [0xFEFF, 0xC01D], -123456),
    ("int32", "DCBA", [0xC01D, 0xFEFF], -123456),
    # uint32 0x12345678
    ("uint32", "ABCD", [0x1234, 0x5678], 305419896),
    ("uint32", "CDAB", [0x5678, 0x1234], 305419896),
    ("uint32", "BADC", [0x3412, 0x7856], 305419896),
    ("uint32", "DCBA", [0x7856, 0x3412], 305419896),
    ("uint32", "ABCD", [0xFFFF, 0xFFFF], 4294967295),
    # uint64 0x0102030405060708
    ("uint64", "ABCDEFGH", [0x0102, 0x0304, 0x0506, 0x0708], 72623859790382856),
    ("uint64", "HGFEDCBA", [0x0807, 0x0605, 0x0403, 0x0201], 72623859790382856),
    ("uint64", "BADCFEHG", [0x0201, 0x0403, 0x0605, 0x0807], 72623859790382856),
    ("uint64", "GHEFCDAB", [0x0708, 0x0506, 0x0304, 0x0102], 72623859790382856),
    # int64 0xFEFDFCFBFAF9F8F7
    ("int64", "ABCDEFGH", [0xFEFD, 0xFCFB, 0xFAF9, 0xF8F7], -72623859790382857),
    ("int64", "HGFEDCBA", [0xF7F8, 0xF9FA, 0xFBFC, 0xFDFE], -72623859790382857),
    ("int64", "BADCFEHG", [0xFDFE, 0xFBFC, 0xF9FA, 0xF7F8], -72623859790382857),
    ("int64", "GHEFCDAB", [0xF8F7, 0xFAF9, 0xFCFB, 0xFEFD], -72623859790382857),
    ("int64", "ABCDEFGH", [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], -2),
    # float64 230.0 = 0x406CC00000000000
    ("float64", "ABCDEFGH", [0x406C, 0xC000, 0x0000, 0x0000], 230.0),
    ("float64", "HGFEDCBA", [0x0000, 0x0000, 0x00C0, 0x6C40], 230.0),
    ("float64", "BADCFEHG", [0x6C40, 0x00C0, 0x0000, 0x0000], 230.0),
    ("float64", "GHEFCDAB", [0x0000, 0x0000, 0xC000, 0x406C], 230.0),
    # float64 pi = 0x400921FB54442D18 (every byte different, so every order is told apart)
    ("float64", "ABCDEFGH", [0x4009, 0x21FB, 0x5444, 0x2D18], math.pi),
    ("float64", "HGFEDCBA", [0x182D, 0x4454, 0xFB21, 0x0940], math.pi),
    ("float64", "BADCFEHG", [0x0940, 0xFB21, 0x4454, 0x182D], math.pi),
    ("float64", "GHEFCDAB", [0x2D18, 0x5444, 0x21FB, 0x4009], math.pi),
]


def _id(case: tuple[str, str, list[int], int | float]) -> str:
    type_, order, _, value = case
    return f"{type_}-{order}-{value}"


@pytest.mark.parametrize("case", WORKED, ids=[_id(c) for c in WORKED])
def test_registers_decode_to_the_worked_value(case: tuple[str, str, list[int], Any]) -> None:
    type_, order, regs, value = case
    raw = decode_raw(point(type_, order), regs)
    assert raw == value
    assert type(raw) is type(value)


@pytest.mark.parametrize("case", WORKED, ids=[_id(c) for c in WORKED])
def test_value_encodes_to_the_worked_registers(case: tuple[str, str, list[int], Any]) -> None:
    # The simulator serves what encode_raw produces, so it must match the wire layout.
    type_, order, regs, value = case
    assert encode_raw(point(type_, order), value) == regs


FLOAT32_PI = [("ABCD", [0x4049, 0x0FDB]), ("CDAB", [0x0FDB, 0x4049]),
              ("BADC", [0x4940, 0xDB0F]), ("DCBA", [0xDB0F, 0x4940])]  # fmt: skip


@pytest.mark.parametrize(("order", "regs"), FLOAT32_PI, ids=[o for o, _ in FLOAT32_PI])
def test_float32_pi_decodes_in_every_32_bit_order(order: str, regs: list[int]) -> None:
    # 0x40490FDB is the single-precision pi, 3.14159274...; every byte differs.
    assert decode_raw(point("float32", order), regs) == pytest.approx(math.pi, abs=1e-6)


@pytest.mark.parametrize(
    ("type_", "regs"),
    [("int32", [0x0000, 0x0001]), ("uint32", [0x0000, 0x0001]), ("float32", [0x3F80, 0x0000])],
)
def test_32_bit_values_without_byte_order_are_big_endian(type_: str, regs: list[int]) -> None:
    # [0x0000, 0x0001] is 1 in ABCD (and 65536 in CDAB); 0x3F800000 is float32 1.0.
    assert decode_raw(point(type_), regs) == 1


def test_64_bit_values_without_byte_order_are_big_endian() -> None:
    assert decode_raw(point("uint64"), [0x0102, 0x0304, 0x0506, 0x0708]) == 0x0102030405060708


def test_coil_decodes_to_bool_and_reads_as_one_or_zero() -> None:
    coil = point("bool", register="coil")
    assert decode_raw(coil, [True]) is True
    assert decode_raw(coil, [False]) is False
    assert read(coil, [True]) == (1.0, Quality.good)
    assert read(coil, [False]) == (0.0, Quality.good)


def test_discrete_input_decodes_to_bool() -> None:
    assert decode_raw(point("bool", register="discrete"), [True]) is True


@pytest.mark.parametrize(
    ("order", "bit", "reg", "expected"),
    [
        ("AB", 2, 0x0004, True),  # 0b100: bit 2 set
        ("AB", 2, 0xFFFB, False),  # every bit but 2
        ("AB", 15, 0x8000, True),
        ("AB", 0, 0x8000, False),
        ("BA", 2, 0x0400, True),  # wire bytes 04 00 are B A: the value is 0x0004
        ("BA", 2, 0x0004, False),
        ("BA", 10, 0x0004, True),  # 0x0004 swapped is 0x0400: bit 10
        ("BA", 15, 0x0080, True),  # 0x0080 swapped is 0x8000
    ],
)
def test_bit_point_reads_its_bit_of_the_register(
    order: str, bit: int, reg: int, expected: bool
) -> None:
    assert decode_raw(point("bit", order, bit=bit), [reg]) is expected


def test_bit_point_without_byte_order_reads_the_register_big_endian() -> None:
    assert decode_raw(point("bit", bit=8), [0x0100]) is True
    assert decode_raw(point("bit", bit=0), [0x0100]) is False


@pytest.mark.parametrize(
    ("order", "regs"),
    [
        # 'P' 0x50 'U' 0x55 'M' 0x4D 'P' 0x50 '-' 0x2D '1' 0x31
        ("AB", [0x5055, 0x4D50, 0x2D31]),
        ("BA", [0x5550, 0x504D, 0x312D]),
    ],
)
def test_string_decodes_in_both_byte_orders(order: str, regs: list[int]) -> None:
    assert decode_raw(point("string", order, length=3), regs) == "PUMP-1"


def test_string_stops_at_nul_padding() -> None:
    # 'O' 0x4F 'K' 0x4B then NULs; bytes after the first NUL are ignored.
    assert decode_raw(point("string", length=3), [0x4F4B, 0x0000, 0x4142]) == "OK"


def test_string_trailing_spaces_are_trimmed() -> None:
    assert decode_raw(point("string", length=2), [0x4F4B, 0x2020]) == "OK"


def test_string_reads_through_with_good_quality() -> None:
    assert read(point("string", length=1), [0x4F4B]) == ("OK", Quality.good)


def test_reply_with_the_wrong_number_of_registers_is_rejected() -> None:
    with pytest.raises(ValueError, match="expected 2 registers, got 1"):
        decode_raw(point("float32", "ABCD"), [0x4366])


# --- scale, offset, sentinels, NaN and range ------------------------------------------------


def test_scale_and_offset_turn_raw_into_engineering_units() -> None:
    # 0x0929 = 2345; 2345 x 0.1 - 40 = 194.5
    value, quality = read(point("uint16", scale=0.1, offset=-40), [0x0929])
    assert value == pytest.approx(194.5)
    assert quality is Quality.good


def test_scale_and_offset_apply_to_negative_values() -> None:
    # 0xFFCE = -50 as int16; -50 x 0.5 + 10 = -15
    assert read(point("int16", scale=0.5, offset=10), [0xFFCE]) == (-15.0, Quality.good)


def test_sentinel_makes_the_reading_unavailable_never_zero() -> None:
    # 0xFFFF = 65535: the device has no value yet. Scaled it would be 6553.5; it must be None.
    p = point("uint16", scale=0.1, sentinels=[65535])
    assert read(p, [0xFFFF]) == (None, Quality.unavailable)


def test_values_other_than_the_sentinel_read_normally() -> None:
    p = point("uint16", scale=0.1, sentinels=[65535])
    value, quality = read(p, [0xFFFE])
    assert value == pytest.approx(6553.4)
    assert quality is Quality.good


def test_signed_sentinel_matches_the_decoded_value() -> None:
    # int16 0x8000 = -32768, the usual "not implemented" value of signed registers.
    assert read(point("int16", sentinels=[-32768]), [0x8000]) == (None, Quality.unavailable)


def test_64_bit_sentinel_matches_exactly() -> None:
    # 2^64 - 1 is not a float; rounded to 2^64 it would never match the register value.
    p = point("uint64", sentinels=[0xFFFF_FFFF_FFFF_FFFF])
    assert read(p, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF]) == (None, Quality.unavailable)
    assert read(p, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE])[1] is Quality.good


@pytest.mark.parametrize(
    ("type_", "regs"),
    [
        ("float32", [0x7FC0, 0x0000]),  # quiet NaN
        ("float32", [0xFFC0, 0x0000]),  # negative NaN
        ("float32", [0x7F80, 0x0000]),  # +infinity
        ("float32", [0xFF80, 0x0000]),  # -infinity
        ("float64", [0x7FF8, 0x0000, 0x0000, 0x0000]),  # quiet NaN
        ("float64", [0x7FF0, 0x0000, 0x0000, 0x0000]),  # +infinity
    ],
)
def test_nan_or_infinite_float_is_unavailable(type_: str, regs: list[int]) -> None:
    assert read(point(type_, scale=2.0), regs) == (None, Quality.unavailable)


def test_nan_in_word_swapped_float_is_unavailable() -> None:
    assert read(point("float32", "CDAB"), [0x0000, 0x7FC0]) == (None, Quality.unavailable)


@pytest.mark.parametrize(
    ("regs", "value", "quality"),
    [
        ([0x43FA, 0x0000], 500.0, Quality.good),  # 0x43FA0000 = 500.0: the limit itself
        ([0x4416, 0x0000], 600.0, Quality.out_of_range),  # 0x44160000 = 600.0
        ([0x0000, 0x0000], 0.0, Quality.good),  # the lower limit
        ([0xBF80, 0x0000], -1.0, Quality.out_of_range),  # 0xBF800000 = -1.0
    ],
)
def test_values_outside_min_max_are_out_of_range(
    regs: list[int], value: float, quality: Quality
) -> None:
    p = point("float32", "ABCD", min=0, max=500)
    assert read(p, regs) == (value, quality)


def test_range_is_checked_after_scaling() -> None:
    # raw 2345 x 0.1 = 234.5 V fits 0-250; raw 2600 (0x0A28) x 0.1 = 260 V does not.
    p = point("uint16", scale=0.1, min=0, max=250)
    assert read(p, [0x0929])[1] is Quality.good
    assert read(p, [0x0A28])[1] is Quality.out_of_range


# --- round trips ----------------------------------------------------------------------------

INT_SAMPLES: dict[str, list[int]] = {
    "int16": [-32768, -12345, -1, 0, 1, 12345, 32767],
    "uint16": [0, 1, 0x00FF, 0x8000, 0xFFFF],
    "int32": [-(2**31), -123456, -1, 0, 1, 0x01020304, 2**31 - 1],
    "uint32": [0, 1, 0x12345678, 0x80000000, 2**32 - 1],
    "int64": [-(2**63), -72623859790382857, -1, 0, 1, 2**53 + 1, 2**63 - 1],
    "uint64": [0, 1, 2**53 + 1, 0x0102030405060708, 2**64 - 2, 2**64 - 1],
}
# Each is exactly representable in its format, so the round trip must be exact.
FLOAT_SAMPLES: dict[str, list[float]] = {
    "float32": [0.0, -0.0, 1.0, -1.5, 230.0, 0.15625, 3.4028234663852886e38, 2.0**-126],
    "float64": [0.0, -0.0, 1.0, -1.5, 230.0, math.pi, 1e300, 5e-324, -(2.0**-1022)],
}


BYTES = {"int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "float32": 4,
         "int64": 8, "uint64": 8, "float64": 8}  # fmt: skip


ROUND_TRIP = [
    (type_, order, value)
    for samples in (INT_SAMPLES, FLOAT_SAMPLES)
    for type_, values in samples.items()
    for order in BYTE_ORDERS_BY_WIDTH[BYTES[type_]]
    for value in values
]


@pytest.mark.parametrize(("type_", "order"), sorted({(t, o) for t, o, _ in ROUND_TRIP}))
def test_encode_then_decode_gives_back_every_number(type_: str, order: str) -> None:
    p = point(type_, order)
    for value in [v for t, o, v in ROUND_TRIP if (t, o) == (type_, order)]:
        regs = encode_raw(p, value)
        assert len(regs) == p.registers
        assert all(0 <= r <= 0xFFFF for r in regs)
        back = decode_raw(p, regs)
        assert back == value, f"{value!r} came back as {back!r}"
        assert math.copysign(1, back) == math.copysign(1, value)


@pytest.mark.parametrize("order", ["AB", "BA"])
def test_encode_then_decode_gives_back_every_bit(order: str) -> None:
    for bit in (0, 1, 7, 8, 14, 15):
        p = point("bit", order, bit=bit)
        for state in (True, False):
            assert decode_raw(p, encode_raw(p, state)) is state, f"bit {bit} {state}"


@pytest.mark.parametrize("order", ["AB", "BA"])
def test_encode_then_decode_gives_back_every_string(order: str) -> None:
    p = point("string", order, length=4)
    for text in ("", "A", "PUMP-1", "ABCDEFGH", "lift b1"):
        assert decode_raw(p, encode_raw(p, text)) == text


def test_encode_then_decode_gives_back_a_coil() -> None:
    p = point("bool", register="coil")
    for state in (True, False):
        assert decode_raw(p, encode_raw(p, state)) is state


# --- integer points stay exact ints ----------------------------------------------------------


@pytest.mark.parametrize(("type_", "values"), sorted(INT_SAMPLES.items()))
def test_unscaled_integer_points_read_as_exact_ints(type_: str, values: list[int]) -> None:
    # uint64 2**53 + 1 as a float would be 2**53: an energy counter in Wh losing its last Wh.
    p = point(type_)
    assert p.integral
    for value in values:
        got, quality = read(p, encode_raw(p, value))
        assert (type(got), got, quality) == (int, value, Quality.good)


def test_scaled_or_offset_integer_points_read_as_floats() -> None:
    # One type per point, whatever the value: a scaled counter is a float even when whole.
    for extra in ({"scale": 0.1}, {"scale": 2}, {"offset": -40}):
        p = point("uint32", **extra)
        assert not p.integral
        assert type(read(p, [0, 20])[0]) is float
    assert type(read(point("uint16", scale=1.0, offset=0.0), [20])[0]) is int
    assert type(read(point("float32"), [0x4366, 0x0000])[0]) is float
    assert read(point("bit", bit=0), [1])[0] == 1.0


def test_range_checks_compare_an_int_exactly() -> None:
    p = point("uint64", max=2**53)
    assert read(p, encode_raw(p, 2**53))[1] is Quality.good
    assert read(p, encode_raw(p, 2**53 + 1)) == (2**53 + 1, Quality.out_of_range)


def test_the_simulator_serves_an_integer_point_exactly() -> None:
    p = point("uint64")
    raw = from_engineering(p, 2**53 + 1)
    assert read(p, encode_raw(p, raw)) == (2**53 + 1, Quality.good)


def test_signed_sentinel_written_as_a_register_pattern_matches() -> None:
    # A manual says "0x8000 = no value" for an int16; decoded, that register is -32768.
    p = Point.model_validate(
        {"name": "t", "register": "holding", "address": 0, "type": "int16", "sentinels": [0x8000]}
    )
    value, quality = to_engineering(p, decode_raw(p, [0x8000]))
    assert (value, quality) == (None, Quality.unavailable)
    assert to_engineering(p, decode_raw(p, [0x7FFF]))[1] is Quality.good


def test_signed_sentinel_written_as_a_negative_number_still_matches() -> None:
    p = Point.model_validate(
        {
            "name": "t",
            "register": "holding",
            "address": 0,
            "type": "int32",
            "byte_order": "ABCD",
            "sentinels": [-1],
        }
    )
    assert to_engineering(p, decode_raw(p, [0xFFFF, 0xFFFF])) == (None, Quality.unavailable)


def _at(p: Point, address: int) -> Point:
    return p.model_copy(update={"address": address, "name": f"p{address}"})


def _planned_reply(points: list[Point], values: dict[str, Any]) -> tuple[int, list[int]]:
    """The registers of one read spanning the points, each point's value encoded in place,
    the gaps filled with a pattern no point uses."""
    base = min(p.address for p in points)
    end = max(p.address + p.registers for p in points)
    regs = [0xA5A5] * (end - base)
    for p in points:
        regs[p.address - base : p.address - base + p.registers] = encode_raw(p, values[p.name])
    return base, regs


def test_a_whole_read_decodes_every_point_as_one_point_reads_would() -> None:
    # The collector unpacks a merged read in one go; every type and order, with gaps between
    # points, must give exactly what decoding each point's own registers gives.
    from collectors.decode import request_decoder

    points: list[Point] = []
    values: dict[str, Any] = {}
    address = 100
    for type_, order, value in ROUND_TRIP[::7]:
        p = _at(point(type_, order), address)
        points.append(p)
        values[p.name] = value
        address += p.registers + (address % 3)  # gaps of 0-2 registers
    text = _at(point("string", "BA", length=3), address)
    bit = _at(point("bit", "BA", bit=9), address + 3)
    base, regs = _planned_reply([*points, text, bit], {**values, text.name: "PUMP", bit.name: True})
    big_endian = [p for p in points if p.order == "ABCDEFGH"[: p.registers * 2]]
    assert len(big_endian) >= 4
    for group in (big_endian, points, [*points, text, bit]):
        decode = request_decoder(group, base)
        expected = [
            decode_raw(p, regs[p.address - base : p.address - base + p.registers]) for p in group
        ]
        assert decode(regs) == expected
    assert request_decoder([text, bit], base)(regs) == ["PUMP", True]


def test_overlapping_points_in_one_read_are_each_decoded() -> None:
    from collectors.decode import request_decoder

    whole = _at(point("uint16"), 10)
    flag = _at(point("bit", bit=3), 10).model_copy(update={"name": "flag"})
    assert request_decoder([whole, flag], 10)([0x0008]) == [8, True]
