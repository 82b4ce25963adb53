"""The energy report's words. Message ids are the English text; the Chinese is in
core/locale/zh_CN/LC_MESSAGES/energy_report.po (core.i18n merges every catalog there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.i18n import LANGS, translate

__all__ = ["CARRIERS", "LANGS", "N_", "SUB_ITEMS", "unit_text", "words"]


def N_(msgid: str) -> str:
    """Mark msgid for the catalog; it is translated where it is shown."""
    return msgid


def words(lang: str) -> Callable[..., str]:
    """`_` for one language: translates, then fills in {placeholders}."""

    def _(msgid: str, **values: Any) -> str:
        text = translate(lang, msgid)
        return text.format(**values) if values else text

    return _


#: Each carrier's name (analytics.site.Carrier).
CARRIERS: dict[str, str] = {
    "electricity": N_("Electricity"),
    "natural_gas": N_("Natural gas"),
    "diesel": N_("Diesel"),
    "gasoline": N_("Gasoline"),
    "lpg": N_("LPG"),
    "raw_coal": N_("Raw coal"),
    "heat": N_("District heat"),
    "water": N_("Water"),
}

#: The electricity sub-items (MOHURD 2008 guideline for energy monitoring of office buildings:
#: 01A00 lighting and sockets, 01B00 HVAC, 01C00 power, 01D00 special) and the remainder no
#: sub-meter accounts for.
SUB_ITEMS: dict[str, str] = {
    "01A00": N_("Lighting and sockets"),
    "01B00": N_("HVAC"),
    "01C00": N_("Power"),
    "01D00": N_("Special"),
    "unmetered": N_("Unmetered / losses"),
}

#: The indicators of the filing, with their units.
INDICATORS: dict[str, tuple[str, str]] = {
    "kgce_per_m2": (N_("Energy per floor area"), "kgce/m²"),
    "kgce_per_person": (N_("Energy per person"), N_("kgce/person")),
    "water_m3_per_person": (N_("Water per person"), N_("m³/person")),
    "kgco2e_per_m2": (N_("Carbon per floor area"), "kgCO₂e/m²"),
}

#: Units with a word in them (translated); the others are symbols, the same in every language.
WORDY_UNITS = frozenset({"kgce/person", "m³/person"})


def unit_text(unit: str, lang: str) -> str:
    """A unit as the report shows it in lang: kgce/m² stays, kgce/person becomes kgce/人."""
    return translate(lang, unit) if unit in WORDY_UNITS else unit


#: Month names, January first.
MONTHS: tuple[str, ...] = (
    N_("Jan"),
    N_("Feb"),
    N_("Mar"),
    N_("Apr"),
    N_("May"),
    N_("Jun"),
    N_("Jul"),
    N_("Aug"),
    N_("Sep"),
    N_("Oct"),
    N_("Nov"),
    N_("Dec"),
)
