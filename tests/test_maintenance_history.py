"""`plantroom demo-history maintenance`: the demo's maintenance past written through the
command, with its progress on stderr, and nothing written twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantroom.cli import main


def test_command_writes_the_history_with_progress_and_a_rerun_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["demo-history", "maintenance", "--data-dir", str(tmp_path / "data")]
    assert main(args) == 0
    first = capsys.readouterr().err
    assert "100.0%" in first and "already there" in first
    assert " 0 corrective" not in first
    assert main(args) == 0
    again = capsys.readouterr().err
    assert "0 corrective and 0 preventive work orders written" in again
