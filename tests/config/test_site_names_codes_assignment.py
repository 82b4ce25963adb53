"""site.yaml's names in Chinese (``name_zh``), its ``codes:`` and its ``assignment:`` defaults:
the demo carries them all, and every mistake in them is reported at FILE:LINE: FIELD by
`plantroom check-config`.

As in test_check_config.py, each expected line is found in the text the test wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config.site import zh_path
from plantroom.site import load_site
from tests.config.test_check_config import (
    DEMO_DIR,
    DEMO_TEXT,
    SMALL_SITE,
    TEST_PROFILE,
    assert_one_error,
    check,
    edit,
    line_of,
    write_site,
)

DEMO_ASSIGNMENT = """\
assignment:
  - {class: Pump, user: tech}
  - {class: Elevator, contractor: Huaxia Property Services}
"""


def with_assignment(entries: str) -> str:
    """The demo's text with its assignment: section replaced by these entries."""
    return edit(DEMO_TEXT, DEMO_ASSIGNMENT, "assignment:\n" + entries)


# --- the demo -----------------------------------------------------------------------------------


def test_demo_names_every_building_floor_room_asset_and_rule_in_chinese() -> None:
    site = load_site(DEMO_DIR)
    doc = site.doc
    named: list[Any] = [doc.site, *doc.buildings, *doc.rules]
    for b in doc.buildings:
        for f in b.floors:
            named += [f, *f.rooms]
    named += [ref.asset for ref in site.assets()]
    missing = [getattr(x, "id", "?") for x in named if not x.name_zh]
    assert missing == []
    assert len(named) == 1 + 2 + 10 + 4 + 6 + 20  # 20 assets: with a water meter per building


def test_demo_has_about_six_cause_and_six_resolution_codes_each_named_in_chinese() -> None:
    codes = load_site(DEMO_DIR).doc.codes
    assert len(codes.cause) >= 6 and len(codes.resolution) >= 6
    assert all(c.name and c.name_zh for c in codes.cause + codes.resolution)


def test_demo_gives_pumps_to_the_technician_and_lifts_to_the_contractor_only() -> None:
    doc = load_site(DEMO_DIR).doc
    got = [(e.building, e.asset_class, e.user, e.contractor) for e in doc.assignment]
    assert got == [
        (None, "Pump", "tech", None),
        (None, "Elevator", None, doc.contractors[0].name),
        (None, "Fire_Pump", "tech", None),
        (None, "Jockey_Pump", "tech", None),
    ]


# --- locations in Chinese ----------------------------------------------------------------------


def test_a_location_in_chinese_falls_back_to_english_for_a_part_with_no_name_zh(
    tmp_path: Path,
) -> None:
    text = edit(DEMO_TEXT, "name: Pump house\n            name_zh: 水泵房\n", "name: Pump house\n")
    site = load_site(write_site(tmp_path, text))
    pump = site.asset("pump-1")
    assert pump.location == "Building B (Services Hall) / Basement 1 / Pump house"
    assert pump.location_zh == "B座（办事大厅） / 地下一层 / Pump house"
    assert site.asset("b-main").location_zh == "B座（办事大厅） / 地下一层 / 低压配电室"


def test_a_site_with_no_chinese_names_has_no_chinese_locations(tmp_path: Path) -> None:
    path = write_site(tmp_path, SMALL_SITE)
    (path.parent / "profiles").mkdir()
    (path.parent / "profiles" / "test_meter.yaml").write_text(TEST_PROFILE, encoding="utf-8")
    ref = load_site(path).asset("meter")
    assert (ref.asset.name_zh, ref.location, ref.location_zh) == (None, "Test building", None)


def test_zh_path_takes_each_parts_chinese_name_else_its_english_one() -> None:
    assert zh_path([("A", "甲"), ("B", None), ("C", "丙")]) == "甲 / B / 丙"
    assert zh_path([("A", None), ("B", None)]) is None


def test_an_empty_name_zh_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = edit(DEMO_TEXT, "name_zh: 1号生活给水加压泵", 'name_zh: ""')
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, 'name_zh: ""')
    assert_one_error(err, f"{site}:{line}: buildings[1].floors[0].rooms[1].assets[0].name_zh:")


# --- codes --------------------------------------------------------------------------------------


def test_a_code_repeated_in_its_list_is_reported_at_the_repeat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEMO_TEXT, "{code: REPAIRED, name:", "{code: REPLACED, name:")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "{code: REPLACED, name: Repaired")
    assert_one_error(
        err,
        f"{site}:{line}: codes.resolution[1].code: duplicate resolution code 'REPLACED' "
        "(first at codes.resolution[0])",
    )


def test_the_same_code_in_both_lists_is_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEMO_TEXT, "{code: NO_FAULT,", "{code: WEAR,")
    rc, _, err = check(write_site(tmp_path, text), capsys)
    assert (rc, err) == (0, "")


def test_a_code_without_a_name_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEMO_TEXT, "{code: LEAK, name: Leak or burst pipe, ", "{code: LEAK, ")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "{code: LEAK,")
    assert_one_error(err, f"{site}:{line}: codes.cause[4].name:")


# --- default assignees --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "needle", "where", "message"),
    [
        (
            "  - {building: bldg-z, class: Pump, user: tech}\n",
            "bldg-z",
            "assignment[0].building",
            "unknown building 'bldg-z' (known: bldg-a, bldg-b)",
        ),
        (
            "  - {class: Chiller, user: tech}\n",
            "Chiller",
            "assignment[0].class",
            "no asset has class 'Chiller'",
        ),
        (
            "  - {class: Pump, user: tech, contractor: Huaxia Property Services}\n",
            "Pump",
            "assignment[0].contractor",
            "name either a user or a contractor, not both",
        ),
        (
            "  - {class: Pump}\n",
            "Pump",
            "assignment[0]",
            "name a user (a username) or a contractor (a firm's name)",
        ),
        (
            "  - {class: Elevator, contractor: Otis Lifts}\n",
            "Otis",
            "assignment[0].contractor",
            "unknown contractor 'Otis Lifts' (known: 'Huaxia Property Services')",
        ),
        (
            "  - {class: Pump, user: tech}\n  - {class: Pump, user: admin}\n",
            "user: admin",
            "assignment[1]",
            "covers the same building and class as assignment[0]",
        ),
    ],
    ids=["unknown-building", "unknown-class", "both", "neither", "unknown-firm", "repeated"],
)
def test_a_wrong_default_assignee_is_reported_at_its_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    entries: str,
    needle: str,
    where: str,
    message: str,
) -> None:
    text = with_assignment(entries)
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, needle) if needle != "Pump" else line_of(text, "  - {class: Pump")
    assert_one_error(err, f"{site}:{line}: {where}: {message}")


def test_an_unknown_username_passes_the_loader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Users live in the database: the app checks them when it starts (tests/workorders).
    text = with_assignment("  - {building: bldg-a, user: nobody-here}\n")
    rc, _, err = check(write_site(tmp_path, text), capsys)
    assert (rc, err) == (0, "")
