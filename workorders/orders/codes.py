"""The ``codes:`` section of site.yaml: the cause and resolution codes a work order is closed
with, each with its name in English and, optionally, Simplified Chinese::

    codes:
      cause:
        - {code: WEAR, name: Wear and tear, name_zh: 自然磨损}
      resolution:
        - {code: REPLACED, name: Part replaced, name_zh: 更换部件}

When a list is configured, a work order may carry only its codes (422 otherwise, naming the
field and the codes allowed); an empty list accepts any code, as before codes were configured.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from config.site import Located
from core.errors import AppError

#: Which list a code belongs to, and the work-order field that carries it.
Kind = Literal["cause", "resolution"]
FIELDS: dict[Kind, str] = {"cause": "cause_code", "resolution": "resolution_code"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Code(_Strict):
    """One cause or resolution code."""

    code: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = Field(min_length=1, max_length=200)
    name_zh: str | None = Field(default=None, min_length=1, max_length=200)


class Codes(_Strict):
    """The ``codes:`` section of site.yaml."""

    cause: list[Code] = Field(default_factory=list)
    resolution: list[Code] = Field(default_factory=list)


class UnknownCode(AppError):
    """A cause or resolution code that is not in the site's list."""

    status_code = 422
    error = "unknown_code"


def code_problems(codes: Codes) -> list[Located]:
    """(path, message) for each code that repeats one before it in the same list."""
    out: list[Located] = []
    for kind in FIELDS:
        seen: dict[str, int] = {}
        for i, c in enumerate(getattr(codes, kind)):
            if c.code in seen:
                out.append(
                    (
                        ("codes", kind, i, "code"),
                        f"duplicate {kind} code '{c.code}' (first at codes.{kind}[{seen[c.code]}])",
                    )
                )
            seen.setdefault(c.code, i)
    return out


def check_codes(codes: Codes | None, values: dict[str, Any]) -> None:
    """422 UnknownCode when `values` (work-order fields) set a cause_code or resolution_code
    that the site's non-empty list for it lacks; None (clearing) is always allowed."""
    if codes is None:
        return
    for kind, field in FIELDS.items():
        value = values.get(field)
        allowed = [c.code for c in getattr(codes, kind)]
        if value is None or not allowed or value in allowed:
            continue
        raise UnknownCode(
            f"{field} '{value}' is not one of the site's {kind} codes: {', '.join(allowed)}",
            detail={"field": field, "value": value, "allowed": allowed},
        )
