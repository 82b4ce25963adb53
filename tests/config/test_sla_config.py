"""The ``sla:`` and ``contractors:`` sections of site.yaml: the demo's policies follow DOMAIN.md's
table, and broken sections are reported as file:line:field.

Each broken-config test appends its section to the demo text in tmp_path and finds the expected
line by searching the text it wrote, never by asking the loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from config.site import SITES_DIR
from config.yamlloc import ConfigError
from plantroom.site import load_site
from workorders.sla.config import (
    PaymentRule,
    SlaSection,
    resolve_policies,
    unknown_contractors,
)

DEMO_TEXT = (SITES_DIR / "demo" / "site.yaml").read_text(encoding="utf-8")
H = 3600.0
WORKING_DAY = 7.5 * H  # 08:30-12:00 + 13:30-17:30


def _without_sections(text: str, *names: str) -> str:
    """The demo text with these top-level sections cut out (so a test can write its own)."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        top = line[:1] not in (" ", "\t", "\n", "#", "-") and ":" in line
        if top:
            skipping = line.split(":", 1)[0] in names
        if not skipping:
            out.append(line)
    return "".join(out)


def _site_with(tmp_path: Path, sections: str) -> tuple[Path, str]:
    text = _without_sections(DEMO_TEXT, "sla", "contractors") + "\n" + sections
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _line(text: str, needle: str) -> int:
    [n] = [i for i, ln in enumerate(text.splitlines(), 1) if needle in ln]
    return n


def test_demo_policies_follow_the_domain_table(demo_site: Any) -> None:
    by_priority = {p.priority: p for p in demo_site.doc.sla.policies}
    assert sorted(by_priority) == ["P1", "P2", "P3", "P4"]
    p1, p2, p3, p4 = (by_priority[k] for k in ("P1", "P2", "P3", "P4"))
    assert (p1.response, p1.resolution, p1.calendar) == (30 * 60, 4 * H, "24x7")
    assert (p2.response, p2.resolution, p2.calendar) == (H, 24 * H, "24x7")
    # On business hours a day is a working day of 7.5 h, not 24 h.
    assert (p3.response, p3.resolution, p3.calendar) == (WORKING_DAY, 5 * WORKING_DAY, "business")
    assert (p4.response, p4.resolution, p4.calendar) == (None, 10 * WORKING_DAY, "business")
    assert all(p.warn_at == 0.8 for p in by_priority.values())


def test_demo_has_one_contractor_with_the_default_payment_rule(demo_site: Any) -> None:
    [c] = demo_site.doc.contractors
    assert c.name == "Huaxia Property Services"
    assert c.monthly_fee is not None and c.monthly_fee > 0
    assert c.payment == PaymentRule(full_fee_at=85, base_percent=15, deduction_per_complaint=0)


def test_bad_policy_names_file_line_and_field(tmp_path: Path) -> None:
    path, text = _site_with(
        tmp_path,
        "sla:\n"
        "  policies:\n"
        "    - {name: P1 emergency, priority: P1, response: 30m, resolution: 4h}\n"
        "    - name: P2 urgent\n"
        "      priority: P2\n"
        "      response: soon\n"
        "      resolution: 24h\n",
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    [problem] = err.value.problems
    assert str(problem).startswith(
        f"{path}:{_line(text, 'response: soon')}: sla.policies[1].response: "
    )
    assert "expected a duration such as 30s, 5m or 2h" in str(problem)


def test_bad_contractor_names_file_line_and_field(tmp_path: Path) -> None:
    path, text = _site_with(
        tmp_path,
        "contractors:\n"
        "  - name: Huaxia Property Services\n"
        "    monthly_fee: 180000\n"
        "  - name: 绿城物业\n"
        "    monthly_fee: 90000\n"
        "    payment: {full_fee_at: 85, base_percent: 150}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    [problem] = err.value.problems
    assert str(problem).startswith(
        f"{path}:{_line(text, 'base_percent: 150')}: contractors[1].payment.base_percent: "
    )
    assert "less than or equal to 100" in str(problem)


def test_unknown_field_in_a_contractor_is_refused(tmp_path: Path) -> None:
    path, text = _site_with(
        tmp_path, "contractors:\n  - name: Huaxia Property Services\n    monthly_fees: 180000\n"
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    [problem] = err.value.problems
    assert str(problem) == (
        f"{path}:{_line(text, 'monthly_fees')}: contractors[0].monthly_fees: unknown field"
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"policies": [{"name": "x", "priority": "P1", "contractor_id": 3, "resolution": "4h"}]},
            "name the contractor",
        ),
        (
            {
                "policies": [
                    {"name": "a", "priority": "P2", "resolution": "4h"},
                    {"name": "b", "priority": "P2", "resolution": "8h"},
                ]
            },
            "policies[1] 'b' and policies[0] 'a' both cover priority P2",
        ),
        ({"policies": [{"name": "x", "priority": "P5", "resolution": "4h"}]}, "P1"),
        ({"warn_at": 1.5, "policies": []}, "less than or equal to 1"),
    ],
)
def test_bad_sla_sections_are_refused_with_a_reason(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        SlaSection.model_validate(section)


def test_one_general_and_one_contractor_policy_per_priority_are_allowed() -> None:
    section = SlaSection.model_validate(
        {
            "policies": [
                {"name": "general", "priority": "P1", "resolution": "4h"},
                {"name": "huaxia", "priority": "P1", "contractor": "Huaxia", "resolution": "3h"},
            ]
        }
    )
    resolved = resolve_policies(section.policies, {"Huaxia": 7})
    assert [(p.name, p.contractor_id) for p in resolved] == [("general", None), ("huaxia", 7)]
    # A contractor the database does not hold yet: its policy can cover nothing.
    assert [p.name for p in resolve_policies(section.policies, {})] == ["general"]


def test_section_warn_at_applies_where_a_policy_sets_none() -> None:
    section = SlaSection.model_validate(
        {
            "warn_at": 0.75,
            "policies": [
                {"name": "a", "priority": "P1", "resolution": "4h"},
                {"name": "b", "priority": "P2", "resolution": "4h", "warn_at": 0.5},
            ],
        }
    )
    assert [p.warn_at for p in section.policies] == [0.75, 0.5]


def test_duplicate_contractor_names_are_refused(tmp_path: Path) -> None:
    path, _ = _site_with(
        tmp_path,
        "contractors:\n  - name: Huaxia Property Services\n  - name: Huaxia Property Services\n",
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    [problem] = err.value.problems
    assert problem.field == "contractors"
    assert "contractors[1] repeats the name 'Huaxia Property Services'" in problem.message


def test_policy_for_a_contractor_missing_from_the_section_is_found() -> None:
    section = SlaSection.model_validate(
        {"policies": [{"name": "x", "priority": "P1", "contractor": "Nobody", "resolution": "1h"}]}
    )
    assert unknown_contractors(section, []) == [
        (("sla", "policies", 0, "contractor"), "unknown contractor 'Nobody'")
    ]
