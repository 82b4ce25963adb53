"""Text in English and Simplified Chinese, from gettext catalogs (Babel).

Message ids are the English text. The Chinese catalogs are the `*.po` files under
`core/locale/zh_CN/LC_MESSAGES/` (one per domain: `messages` for the app's pages, `rules` for
alert rules in words, ...), read with Babel when first needed: there is no compile step, and the
`.po` files are the only source. `tests/core/test_i18n.py` extracts every string the code marks
for translation and fails when one has no Chinese.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from babel.messages.pofile import read_po

LANGS = ("en", "zh-CN")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The catalogs' directory for each language that has one (English is the message ids).
CATALOG_DIRS = {"zh-CN": LOCALE_DIR / "zh_CN" / "LC_MESSAGES"}


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """Every translated message of lang, merged over its domains: {msgid: msgstr}."""
    folder = CATALOG_DIRS.get(lang)
    if folder is None:
        return {}
    merged: dict[str, str] = {}
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale="zh_CN"):
                if isinstance(message.id, str) and message.id and message.string:
                    if message.fuzzy:
                        continue
                    merged[message.id] = str(message.string)
    return merged


def translate(lang: str, msgid: str) -> str:
    """msgid in lang; the English msgid itself when lang is English or has no translation."""
    if lang == "en":
        return msgid
    return catalog(lang).get(msgid, msgid)


def translator(lang: str) -> Callable[[str], str]:
    """A gettext-style function for one language: `_ = translator(lang); _("Resolve")`."""
    return functools.partial(translate, lang)


def both(msgid: str, **values: object) -> dict[str, str]:
    """msgid formatted with values in every language: {"en": ..., "zh-CN": ...}."""
    return {lang: translate(lang, msgid).format(**values) for lang in LANGS}
