"""Device profiles: register maps in config/profiles/*.yaml.

A profile lists points. Each point names a register table, a 0-based PDU address, a data type,
a byte order, and how to scale the raw value into engineering units.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from config.units import Duration


class RegisterTable(StrEnum):
    """The four Modbus data tables."""

    holding = "holding"
    input = "input"
    coil = "coil"
    discrete = "discrete"

    @property
    def is_bits(self) -> bool:
        """Coils and discrete inputs are bit tables."""
        return self in (RegisterTable.coil, RegisterTable.discrete)


class PointType(StrEnum):
    """Data types a point can decode to."""

    bool = "bool"
    bit = "bit"
    int16 = "int16"
    uint16 = "uint16"
    int32 = "int32"
    uint32 = "uint32"
    int64 = "int64"
    uint64 = "uint64"
    float32 = "float32"
    float64 = "float64"
    string = "string"


#: Width in 16-bit registers of each fixed-size register type.
TYPE_REGISTERS: dict[PointType, int] = {
    PointType.bit: 1,
    PointType.int16: 1,
    PointType.uint16: 1,
    PointType.int32: 2,
    PointType.uint32: 2,
    PointType.float32: 2,
    PointType.int64: 4,
    PointType.uint64: 4,
    PointType.float64: 4,
}

_SIGNED_BITS = {PointType.int16: 16, PointType.int32: 32, PointType.int64: 64}
#: Whole-number register types: their raw values are Python ints.
INTEGER_TYPES = frozenset(
    {
        PointType.int16,
        PointType.uint16,
        PointType.int32,
        PointType.uint32,
        PointType.int64,
        PointType.uint64,
    }
)

BYTE_ORDERS_BY_WIDTH: dict[int, tuple[str, ...]] = {
    2: ("AB", "BA"),
    4: ("ABCD", "DCBA", "BADC", "CDAB"),
    8: ("ABCDEFGH", "HGFEDCBA", "BADCFEHG", "GHEFCDAB"),
}
ByteOrder = Literal[
    "AB", "BA", "ABCD", "DCBA", "BADC", "CDAB", "ABCDEFGH", "HGFEDCBA", "BADCFEHG", "GHEFCDAB"
]


class Point(BaseModel):
    """One value read from a device."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    table: RegisterTable = Field(alias="register")
    address: int = Field(ge=0, le=65535, description="0-based PDU address")
    type: PointType
    byte_order: ByteOrder | None = None
    bit: int | None = Field(default=None, ge=0, le=15, description="bit index for type 'bit'")
    length: int | None = Field(default=None, ge=1, le=125, description="registers, for strings")
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    description: str = ""
    #: Raw values that mean "no reading" (e.g. 0xFFFF from a device that has no value yet).
    #: int | float: a 64-bit sentinel such as 0xFFFFFFFFFFFFFFFF must not be rounded to a float.
    sentinels: list[int | float] = Field(default_factory=list)
    #: Engineering values outside [min, max] are flagged out_of_range.
    min: float | None = None
    max: float | None = None
    #: Poll group: points of one device may be polled at different rates (see the device).
    group: str = "default"
    #: A value that should always move (mains voltage, a flow) but has not changed for this
    #: long is flagged 'stale': gateways that lost their slave often keep serving old registers.
    stale_after: Duration | None = None

    @field_validator("byte_order")
    @classmethod
    def _order_fits_type(cls, order: str | None, info: ValidationInfo) -> str | None:
        # A field validator, so the error names points[i].byte_order and its line.
        kind = info.data.get("type")
        if order is None or kind is None:
            return order
        if kind is PointType.bool:
            allowed: tuple[str, ...] = ()
        elif kind in (PointType.bit, PointType.string):
            allowed = ("AB", "BA")
        else:
            allowed = BYTE_ORDERS_BY_WIDTH[TYPE_REGISTERS[kind] * 2]
        if order not in allowed:
            bits = TYPE_REGISTERS.get(kind, 1) * 16
            raise ValueError(
                f"byte_order {order} does not fit a {kind} ({bits}-bit); "
                f"use one of {', '.join(allowed) or 'none'}"
            )
        return order

    @model_validator(mode="after")
    def _consistent(self) -> Point:
        if self.type is PointType.bool and not self.table.is_bits:
            raise ValueError("type bool needs register coil or discrete (use type bit for a bit)")
        if self.table.is_bits and self.type is not PointType.bool:
            raise ValueError(f"register {self.table} holds bits; its type must be bool")
        if self.type is PointType.bit and self.bit is None:
            raise ValueError("type bit needs 'bit' (0-15)")
        if self.type is PointType.string and self.length is None:
            raise ValueError("type string needs 'length' in registers")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        if self.type in _SIGNED_BITS:
            # Manuals print "no value" as a register pattern (0x8000); for a signed type that
            # pattern decodes negative, so read such sentinels as the signed value they are.
            bits = _SIGNED_BITS[self.type]
            self.sentinels = [
                int(v) - (1 << bits)
                if float(v).is_integer() and (1 << (bits - 1)) <= v < (1 << bits)
                else v
                for v in self.sentinels
            ]
        return self

    @property
    def registers(self) -> int:
        """How many 16-bit registers (or bits, for bit tables) the point spans."""
        if self.type is PointType.bool:
            return 1
        if self.type is PointType.string:
            return self.length or 1
        return TYPE_REGISTERS[self.type]

    @property
    def integral(self) -> bool:
        """Whether readings are exact ints: an integer type with no scale (1) and no offset (0).

        Such values are counted, not measured, and a 64-bit counter above 2**53 (an energy
        meter's Wh) would lose its last digits as a float; every other number is a float.
        """
        return self.type in INTEGER_TYPES and self.scale == 1 and self.offset == 0

    @property
    def order(self) -> str:
        """The byte order in force: the point's own or big-endian for its width."""
        if self.byte_order:
            return self.byte_order
        return "ABCDEFGH"[: max(2, self.registers * 2)]


class Profile(BaseModel):
    """A device type's register map."""

    model_config = ConfigDict(extra="forbid")

    profile: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    manufacturer: str = ""
    model: str = ""
    #: Brick class of the device, e.g. Electrical_Meter.
    brick_class: str = ""
    #: The largest read the device accepts, in registers (Modbus allows 125).
    max_request_registers: int = Field(default=125, ge=1, le=125)
    #: Registers of unused space a merged read may span to save a request.
    max_gap: int = Field(default=10, ge=0, le=124)
    #: Some devices reject any read that is not exactly one point.
    one_request_per_point: bool = False
    #: Values applied to every point unless the point sets them.
    defaults: dict[str, Any] = Field(default_factory=dict)
    points: list[Point]
    #: Which simulator model animates this profile (simulator only).
    simulator: str | None = None
    #: Poll intervals per group, e.g. {slow: 5m}; the device's interval applies to 'default'.
    groups: dict[str, Duration] = Field(default_factory=dict)

    def point(self, name: str) -> Point:
        """The point called name (KeyError when absent)."""
        for p in self.points:
            if p.name == name:
                return p
        raise KeyError(name)
