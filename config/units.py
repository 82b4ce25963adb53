"""Small value types shared by the config schema: durations written as '30s', '5m', '2h', '1d'."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_FACTOR = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Parse '500ms', '30s', '5m', '2h', '1d' or a plain number of seconds into seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m or 2h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _FACTOR[m.group(2)]
    else:
        raise ValueError("expected a duration such as 30s, 5m or 2h")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]

_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}


def go_duration(text: str, *, days: bool = False) -> float | None:
    """Seconds in an unsigned Go duration such as '1m30s' (time.ParseDuration's decimal numbers
    with units ns, us/µs, ms, s, m, h; `days`: also d, as Telegraf allows), or None when text
    is not one."""
    pos, total = 0, 0.0
    while pos < len(text):
        m = _GO_PART.match(text, pos)
        if not m or (m.group(2) == "d" and not days):
            return None
        total += float(m.group(1)) * _GO_UNITS[m.group(2)]
        pos = m.end()
    return total if text else None
