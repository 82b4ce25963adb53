"""The pages' language: which one a request wants, and gettext for templates and routes.

Message ids are the English text, marked `_("...")` in Python, templates and JavaScript; the
Chinese is in `core/locale/zh_CN/LC_MESSAGES/messages.po` (core.i18n reads every catalog there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from core.i18n import LANGS, catalog, translate

__all__ = ["LANGS", "N_", "gettext", "js_catalog", "other_lang", "pick_lang"]


def pick_lang(request: Request) -> str:
    """?lang=, then the lang cookie, then Accept-Language; English otherwise."""
    for cand in (request.query_params.get("lang"), request.cookies.get("lang")):
        if cand in LANGS:
            return cand
    accept = request.headers.get("accept-language", "").lower()
    return "zh-CN" if accept.startswith("zh") else "en"


def other_lang(lang: str) -> str:
    """The language the switch in the header offers."""
    return "en" if lang == "zh-CN" else "zh-CN"


def gettext(lang: str) -> Callable[..., str]:
    """`_` for one language: `_("Signed in as {name}", name=...)` translates, then fills in."""

    def _(msgid: str, **values: Any) -> str:
        text = translate(lang, msgid)
        return text.format(**values) if values else text

    return _


def N_(msgid: str) -> str:
    """Mark msgid for the catalog without translating it here (it is translated when shown)."""
    return msgid


def js_catalog(lang: str) -> dict[str, str]:
    """The catalog the page's scripts read (`_()` in static/js/i18n.js): {} for English."""
    return {} if lang == "en" else catalog(lang)
