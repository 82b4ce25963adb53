"""Reading values in SQLite columns without affinity (the disk buffer, the embedded store).

Such a column keeps what it is given: a float as REAL, an int as a 64-bit INTEGER, exactly.
An int outside SQLite's signed 64-bit range (a uint64 register above 2**63 - 1) is stored as
a BLOB of its decimal digits instead, which no other value uses, and read back as that int.
"""

from __future__ import annotations

from collectors.readings import INT64_MAX, INT64_MIN


def to_sql(value: float | int | str | None) -> float | int | str | bytes | None:
    """A reading's value as SQLite stores it exactly."""
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        return str(value).encode("ascii")
    return value


def from_sql(value: float | int | str | bytes | None) -> float | int | str | None:
    """A stored value back as the reading had it."""
    if isinstance(value, bytes):
        return int(value)
    return value
