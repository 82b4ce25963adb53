"""Plantroom as a separate process, for the whole-process tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_plantroom(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`plantroom ARGS` from the repository root, its output (stdout and stderr) into log."""
    return subprocess.Popen(
        [sys.executable, "-m", "plantroom.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
