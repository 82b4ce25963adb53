"""`plantroom analytics growth` (plantroom.analytics_cli): the issue's interface on published
failure histories, and the refusals (exit 2 with the reason).

Expected values are the published answers cited in tests/analytics/test_reliability.py:
[RGA] ReliaSoft's Crow-AMSAA Table 5.1 (β 0.61421, λ 0.42394, MTBF 28.18182 cumulative and
45.883 instantaneous, cumulative intensity 0.035484) and [MKK] Modarres, Kaminskiy, Krivtsov,
Example 5.11 (interarrival times; Laplace U 2.409, β 1.588, λ 3.703e-05).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from plantroom.cli import main
from tests.analytics.test_reliability import MKK_5_11_GAPS, RGA_TABLE_5_1

KEYS = [
    "n",
    "beta",
    "beta_unbiased",
    "lambda",
    "mtbf_instantaneous",
    "mtbf_cumulative",
    "intensity_cumulative",
    "intensity_cumulative_lower",
    "intensity_cumulative_upper",
    "beta_lower",
    "beta_upper",
    "laplace_u",
    "trend",
]


def _file(tmp_path: Path, values: list[float] | list[int], *, blank_every: int = 0) -> Path:
    lines: list[str] = []
    for i, v in enumerate(values):
        lines.append(str(v))
        if blank_every and i % blank_every == 0:
            lines.append("   ")
    path = tmp_path / "times.txt"
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["analytics", "growth", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_prints_exactly_the_issue_keys_with_the_published_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, RGA_TABLE_5_1, blank_every=5)
    code, out, err = _run(["--times", str(path), "--json"], capsys)
    assert code == 0, err
    got = json.loads(out)
    assert list(got) == KEYS
    assert got["n"] == 22
    assert round(got["beta"], 5) == 0.61421
    assert round(got["lambda"], 5) == 0.42394
    assert round(got["mtbf_cumulative"], 5) == 28.18182
    assert round(got["mtbf_instantaneous"], 3) == 45.883
    assert round(got["intensity_cumulative"], 6) == 0.035484
    assert got["intensity_cumulative_lower"] < 0.035484 < got["intensity_cumulative_upper"]
    assert got["beta_lower"] < got["beta"] < got["beta_upper"] < 1
    assert got["trend"] == "improving"


def test_interarrival_times_are_accumulated_before_the_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, MKK_5_11_GAPS)
    code, out, err = _run(["--times", str(path), "--interarrival", "--json"], capsys)
    assert code == 0, err
    got = json.loads(out)
    assert round(got["laplace_u"], 3) == 2.409
    assert got["trend"] == "worsening"
    assert round(got["beta"], 3) == 1.588
    assert got["lambda"] == pytest.approx(3.703e-05, abs=5e-9)


def test_end_makes_the_history_time_terminated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hand-worked, failures 1, 2, 6 observed to 10: β̂ = 3 / (ln 10 + ln 5 + ln(10/6)),
    U = (3 − 5) / (10·√(1/36)) = −1.2 (all three against T); unbiased β = 2/3·β̂."""
    path = _file(tmp_path, [1, 2, 6])
    code, out, err = _run(["--times", str(path), "--end", "10", "--json"], capsys)
    assert code == 0, err
    got = json.loads(out)
    beta = 3 / (2.302585093 + 1.609437912 + 0.510825624)
    assert got["beta"] == pytest.approx(beta, rel=1e-9)
    assert got["beta_unbiased"] == pytest.approx(2 / 3 * beta, rel=1e-9)
    assert got["laplace_u"] == pytest.approx(-1.2)
    assert got["mtbf_cumulative"] == pytest.approx(10 / 3)
    assert got["trend"] == "no trend"


def test_the_text_report_names_every_figure_in_the_times_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["--times", str(_file(tmp_path, RGA_TABLE_5_1))], capsys)
    assert code == 0, err
    assert "failure-terminated at the last failure, T = 620" in out
    for label, value in [
        ("failures n", "22"),
        ("beta (maximum likelihood)", "0.61421"),
        ("beta (unbiased)", "0.558373"),
        ("lambda", "0.423942"),
        ("MTBF at T, instantaneous", "45.883"),
        ("MTBF at T, cumulative", "28.1818"),
        ("cumulative failure intensity at T", "0.0354839"),
        ("Laplace U (the first 21 failures against T)", "-2.78316"),
    ]:
        assert any(
            line.strip().startswith(label) and line.endswith(value) for line in out.splitlines()
        ), (
            label,
            out,
        )
    assert "90 % Fisher-matrix bounds" in out and "Crow 90 % bounds" in out
    assert "improving" in out


def test_fewer_than_three_failures_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["--times", str(_file(tmp_path, [3.5, 7.0], blank_every=1))], capsys)
    assert code == 2 and out == ""
    assert "2 failure(s)" in err and "at least 3" in err


def test_a_line_that_is_not_a_number_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "times.txt"
    path.write_text("12\n\n30 h\n45\n", encoding="utf-8")
    code, _out, err = _run(["--times", str(path)], capsys)
    assert code == 2
    assert f"{path}:3: not a number: '30 h'" in err


@pytest.mark.parametrize(
    ("values", "extra", "reason"),
    [
        ([5, 9, 14], ["--end", "10"], "before the last failure"),
        ([0, 9, 14], [], "must be positive"),
        ([5, -1, 14], ["--interarrival"], "cannot be negative"),
    ],
    ids=["end-before-last", "zero-time", "negative-gap"],
)
def test_times_the_model_cannot_take_exit_2_with_the_reason(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    values: list[int],
    extra: list[str],
    reason: str,
) -> None:
    code, _out, err = _run(["--times", str(_file(tmp_path, values)), *extra], capsys)
    assert code == 2
    assert reason in err


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(["--times", str(tmp_path / "nope.txt")], capsys)
    assert code == 2
    assert "nope.txt: cannot read" in err


def test_the_installed_command_reads_stdin_and_exits_2_on_too_few() -> None:
    """The `plantroom` console script of the environment, as a user runs it."""
    script = Path(sys.executable).parent / "plantroom"
    cmd = [str(script), "analytics", "growth", "--times", "-"]
    ok = subprocess.run(
        [*cmd, "--json"], input="10\n20\n25\n", capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["n"] == 3
    few = subprocess.run(cmd, input="10\n\n", capture_output=True, text=True, timeout=60)
    assert few.returncode == 2
    assert "1 failure(s)" in few.stderr
