"""Rules in words (issue 14, item 4): each rule type says its condition in English and Simplified
Chinese from the rules catalog, with the point's name in words; and the proof_window field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_file
from pydantic import TypeAdapter, ValidationError

from alerts.rules import RuleConfig
from alerts.rules.base import DEFAULT_PROOF_WINDOW, point_phrase
from config.site import PROFILES_DIR, SITES_DIR, SiteConfig, load_profile
from core.i18n import catalog

RULES_DIR = Path(__file__).resolve().parents[2] / "alerts" / "rules"
RULE = TypeAdapter(RuleConfig)


def rule(**fields: Any) -> Any:
    return RULE.validate_python({"id": "r", "name": "R", **fields})


@pytest.mark.parametrize(
    ("fields", "unit", "en", "zh"),
    [
        (
            {"type": "threshold", "point": "motor_current", "above": 26, "for": "20s"},
            "A",
            "motor current above 26 A for 20 s",
            "电机电流高于 26 A，持续 20 秒",
        ),
        (
            {"type": "threshold", "point": "in_service", "below": 1, "for": "1m"},
            "",
            "in service below 1 for 1 min",
            "在用状态低于 1，持续 1 分钟",
        ),
        (
            {"type": "threshold", "point": "voltage_l1", "below": 50},
            "V",
            "voltage L1 below 50 V",
            "L1 相电压低于 50 V",
        ),
        (
            {"type": "rate_of_change", "point": "motor_temperature", "above": 10, "window": "10m"},
            "degC",
            "motor temperature rising by more than 10 °C per hour, over 10 min",
            "电机温度每小时上升超过 10 °C（按 10 分钟计）",
        ),
        (
            {"type": "rate_of_change", "point": "flow", "below": -2.5, "per": "30m"},
            "m3/h",
            "flow falling by more than 2.5 m³/h per 30 min, over 10 min",
            "流量每30 分钟下降超过 2.5 m³/h（按 10 分钟计）",
        ),
        (
            {"type": "stale", "point": "voltage_l1", "after": "10m"},
            "V",
            "no good voltage L1 reading for 10 min",
            "L1 相电压超过 10 分钟没有有效读数",
        ),
        (
            {"type": "counter_increase", "point": "door_fault_counter", "increase": 3,
             "within": "1h"},
            "",
            "door fault counter up by 3 or more within 1 h",
            "门故障次数在 1 小时内增加 3 或以上",
        ),
        (
            {"type": "baseline_deviation", "point": "total_power", "ratio": 0.3},
            "W",
            "hourly mean of total power over 30 % above the same hour in the last 4 weeks",
            "总有功功率小时均值比过去 4 周同一时段高 30 % 以上",
        ),
        (
            {"type": "night_flow", "point": "flow", "above": 0.8, "nights": 2},
            "m3/h",
            "lowest flow between 01:00 and 05:00 above 0.8 m³/h, 2 nights in a row",
            "01:00–05:00 之间流量最低值连续 2 晚高于 0.8 m³/h",
        ),
        (
            {"type": "meter_interval", "point": "trip_counter", "every": 50_000},
            "",
            "every 50,000 of trip counter",
            "运行次数每增加 50,000",
        ),
    ],
)  # fmt: skip
def test_each_rule_type_says_its_condition_in_both_languages(
    fields: dict[str, Any], unit: str, en: str, zh: str
) -> None:
    assert rule(**fields).words(unit) == {"en": en, "zh-CN": zh}


def test_every_rule_type_has_words_of_its_own() -> None:
    """No type falls back to its bare name: each of the union's members overrides phrase()."""
    members = RuleConfig.__origin__.__args__  # type: ignore[attr-defined]
    from alerts.rules.base import RuleBase

    assert len(members) == 7
    for cls in members:
        assert cls.phrase is not RuleBase.phrase, cls.__name__


def test_every_phrase_of_the_rule_types_has_chinese() -> None:
    zh = catalog("zh-CN")
    missing = []
    for path in sorted(RULES_DIR.glob("*.py")):
        for _line, msgid, _comments, _context in extract_from_file(
            "python", path, keywords={"Phrase": None}
        ):
            if isinstance(msgid, str) and msgid not in zh:
                missing.append(f"{path.name}: {msgid}")
    assert not missing, "no Chinese in rules.po for:\n" + "\n".join(missing)


def test_every_point_of_every_profile_has_a_chinese_name() -> None:
    zh = catalog("zh-CN")
    points = {p.name for f in PROFILES_DIR.glob("*.yaml") for p in load_profile(f).points}
    assert "motor_current" in points
    missing = sorted(p for p in points if point_phrase(p).msgid not in zh)
    assert not missing, f"rules.po has no Chinese name for the points {missing}"


def test_the_demo_rules_all_read_in_chinese(demo_site: SiteConfig) -> None:
    for r in demo_site.doc.rules:
        words = r.words()
        assert words["en"] != words["zh-CN"], r.id


def test_point_names_become_words() -> None:
    assert point_phrase("motor_current").say("en") == "motor current"
    assert point_phrase("voltage_l1").say("en") == "voltage L1"
    assert point_phrase("dc_voltage").say("zh-CN") == "直流母线电压"
    assert point_phrase("some_new_point").say("zh-CN") == "some new point"  # untranslated: English


def test_proof_window_is_a_duration_defaulting_to_fifteen_minutes() -> None:
    base = {"type": "threshold", "point": "motor_current", "above": 26}
    assert rule(**base).proof_window == DEFAULT_PROOF_WINDOW == 900.0
    assert rule(**base, proof_window="3m").proof_window == 180.0
    with pytest.raises(ValidationError, match="proof_window"):
        rule(**base, proof_window="0s")
    with pytest.raises(ValidationError, match="proof_window"):
        rule(**base, proof_window="soon")


def test_the_demo_overcurrent_rule_proves_fixes_within_three_minutes() -> None:
    from plantroom.site import load_site

    site = load_site(SITES_DIR / "demo")
    (r,) = [r for r in site.doc.rules if r.id == "pump-overcurrent"]
    assert r.proof_window == 180.0
