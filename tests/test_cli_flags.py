"""CLI flags that do nothing in the command as given are refused by name, not ignored."""

from __future__ import annotations

import pytest

from plantroom.cli import main


@pytest.mark.parametrize(
    "argv",
    [["collect", "--json"], ["collect", "--device", "a-main-meter"]],
)
def test_collect_refuses_once_only_flags_without_once(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert "--json and --device go with --once" in capsys.readouterr().err


@pytest.mark.parametrize("flag", [["--bind", "0.0.0.0"], ["--port-offset", "100"]])
def test_simulate_history_refuses_the_serving_flags(
    flag: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--history", "--from", "2026-01-05", "--to", "2026-01-06", *flag]
    assert main(argv) == 2
    assert "--port-offset and --bind do not go with --history" in capsys.readouterr().err
