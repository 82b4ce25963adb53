"""Every string the code marks for translation has Chinese (issue 14, item 10).

The strings are found the way `pybabel extract` finds them, with core/locale/babel.cfg: `_()` in
the templates, `_()` (and sync.js's `T()`) in the scripts, `_()`, `N_()`, `Phrase()`,
`translate(lang, msgid)` and `both(msgid)` in Python. Each must have a zh-CN msgstr in the
catalogs under core/locale/zh_CN/LC_MESSAGES/ (core.i18n merges them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from core.i18n import CATALOG_DIRS, catalog, translate
from workorders.web.i18n import gettext, js_catalog

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "core" / "locale" / "babel.cfg"
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def marked(root: Path = ROOT) -> dict[str, list[str]]:
    """Every marked msgid under root: {msgid: ["file:line", ...]}, as pybabel extracts them."""
    with BABEL_CFG.open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def needs_words(msgid: str) -> bool:
    """False for a msgid of placeholders and punctuation alone ('{name}'): nothing to say."""
    return any(ch.isalpha() for ch in PLACEHOLDER.sub("", msgid))


def untranslated(found: dict[str, list[str]], zh: dict[str, str]) -> list[str]:
    """One line per msgid with no Chinese: the msgid and where it is marked."""
    return [
        f"{msgid!r} ({', '.join(where[:3])})"
        for msgid, where in sorted(found.items())
        if needs_words(msgid) and not zh.get(msgid)
    ]


def po_files() -> Iterator[Path]:
    yield from sorted(CATALOG_DIRS["zh-CN"].glob("*.po"))


@pytest.fixture(scope="module")
def found() -> dict[str, list[str]]:
    return marked()


def test_every_marked_string_has_a_chinese_translation(found: dict[str, list[str]]) -> None:
    missing = untranslated(found, catalog("zh-CN"))
    assert not missing, "no zh-CN msgstr for:\n" + "\n".join(missing)


def test_the_extraction_reaches_templates_scripts_python_and_rule_words(
    found: dict[str, list[str]],
) -> None:
    """The check above is only as good as what it extracts: one known string of each kind."""
    where = {msgid: " ".join(places) for msgid, places in found.items()}
    assert "workorders/web/templates/workorder.html" in where["Resolve this work order?"]
    assert "workorders/web/templates/request_form.html" in where["Send report"]
    assert "workorders/web/static/js/workorder.js" in where["Resolve anyway"]
    assert "workorders/web/static/js/list.js" in where["Load more ({n} left)"]
    assert "workorders/web/routes.py" in where["Wrong username or password."]
    assert "workorders/web/request_routes.py" in where["Please describe the problem."]
    assert (
        "alerts/rules/rate_of_change.py"
        in where["{point} rising by less than {rate} per {per}, over {window}"]
    )
    assert not [m for m, places in found.items() if "/static/vendor/" in " ".join(places)]


def test_a_string_without_chinese_is_named_with_where_it_is(tmp_path: Path) -> None:
    page = tmp_path / "workorders" / "web" / "templates" / "new.html"
    page.parent.mkdir(parents=True)
    page.write_text("<h1>{{ _('Resolve') }}</h1><p>{{ _('A sentence nobody translated') }}</p>")
    script = tmp_path / "workorders" / "web" / "static" / "js" / "new.js"
    script.parent.mkdir(parents=True)
    script.write_text('var a = _("Another sentence nobody translated", {n: 1});\n')

    missing = untranslated(marked(tmp_path), catalog("zh-CN"))

    assert missing == [
        "'A sentence nobody translated' (workorders/web/templates/new.html:1)",
        "'Another sentence nobody translated' (workorders/web/static/js/new.js:1)",
    ]


def test_catalogs_that_share_a_msgid_agree_on_its_chinese() -> None:
    """core.i18n merges the catalogs: the same msgid translated two ways would be a coin toss."""
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in po_files():
        with po.open("rb") as fh:
            for m in read_po(fh, locale="zh_CN"):
                if not m.id or not m.string or m.fuzzy:
                    continue
                msgid, msgstr = str(m.id), str(m.string)
                if msgid in seen and seen[msgid][1] != msgstr:
                    clashes.append(f"{msgid!r}: {seen[msgid]} vs {(po.name, msgstr)}")
                seen.setdefault(msgid, (po.name, msgstr))
    assert not clashes, "\n".join(clashes)


def test_translations_keep_every_placeholder() -> None:
    wrong = [
        f"{msgid!r} -> {msgstr!r}"
        for msgid, msgstr in catalog("zh-CN").items()
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))
    ]
    assert not wrong, "\n".join(wrong)


def test_gettext_translates_then_fills_in() -> None:
    assert gettext("en")("Updated work order #{n}", n=7) == "Updated work order #7"
    assert gettext("zh-CN")("Updated work order #{n}", n=7) == "工单 #7 已更新"
    assert gettext("zh-CN")("A msgid with no translation") == "A msgid with no translation"
    assert translate("zh-CN", "Resolve") == "标记完成"


def test_the_pages_scripts_get_the_chinese_catalog_and_nothing_in_english() -> None:
    assert js_catalog("en") == {}
    zh = js_catalog("zh-CN")
    assert zh["Awaiting proof"] == "待验证修复"
    assert zh["{n} min"] == "{n} 分钟"  # the rules' catalog is merged in
