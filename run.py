#!/usr/bin/env python3
"""Set up a virtual environment on first use, then run the demo or the tests.

    python3 run.py demo [plantroom demo options]
    python3 run.py test [pytest options]

The environment lives in .venv/ and is reinstalled when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env(extras: str) -> Path:
    """Create .venv and install the project (with extras) when missing or stale.

    The test install (extras "dev") is a superset of the demo's, so either serves the demo.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py may be started by an older python3
        sys.exit(f"Plantroom needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    good_enough = [extras, "dev"] if not extras else [extras]
    for name in good_enough:
        stamp = VENV / f".installed-{name or 'base'}"
        if stamp.exists() and stamp.read_text() == wanted and _python().exists():
            return _python()
    if not _python().exists():
        print(f"[run.py] creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    what = "Plantroom and its test tools" if extras else "Plantroom"
    print(f"[run.py] installing {what} into .venv (first run only)", flush=True)
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    pip = [str(_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", target], check=True)
    (VENV / f".installed-{extras or 'base'}").write_text(wanted)
    return _python()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test"}:
        print(__doc__)
        return 2
    py = ensure_env("" if argv[0] == "demo" else "dev")
    os.chdir(ROOT)
    if argv[0] == "demo":
        cmd = [str(py), "-m", "plantroom.cli", "demo", *argv[1:]]
    else:
        cmd = [str(py), "-m", "pytest", *argv[1:]]
    proc = subprocess.Popen(cmd)

    def forward(sig: int, _frame: object) -> None:
        # Ctrl-C reaches the child from the terminal too; passing it on is harmless and covers a
        # signal sent to this process alone (kill, a service manager).
        proc.send_signal(sig)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
