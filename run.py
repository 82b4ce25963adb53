#!/usr/bin/env python3
"""Set up a virtual environment on first use, then run the demo or the tests.

    python3 run.py demo [plantroom demo options]
    python3 run.py test [pytest options]

The environment lives in .venv/ and is reinstalled when pyproject.toml changes, or when
urllib3-future has taken the place of urllib3 in it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"

# grafana-client needs niquests, which runs on urllib3-future. That fork's wheel on PyPI installs
# itself over the `urllib3` package, and its .pth file copies itself back at every interpreter
# start, which breaks requests and what is built on it (influxdb-client, schemathesis, anyone's own
# script). Built from its sdist with URLLIB3_NO_OVERRIDE set, it installs as `urllib3_future`
# only, and niquests then uses that name (urllib3-future's README, "Cohabitation mode").
PIP_OPTIONS = ["--no-binary", "urllib3-future"]
PIP_ENV = {"URLLIB3_NO_OVERRIDE": "1"}

# Run by the environment's Python: the distributions other than urllib3 that ship files into the
# `urllib3` package (the fork's wheel does, with its .pth beside it).
_URLLIB3_OVERRIDERS = """
import importlib.metadata as md
for dist in md.distributions():
    name = dist.metadata["Name"] or ""
    if name.lower() != "urllib3" and any(f.parts[0] == "urllib3" for f in dist.files or ()):
        print(name)
"""


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
            # Checked on every run: an environment made before run.py built urllib3-future from
            # source, or a later `pip install` into it, can hold the fork's wheel.
            if not _urllib3_overriders():
                return _python()
            stamp.unlink()  # until the repair below is done
            extras = name
            break
    if not _python().exists():
        print(f"[run.py] creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    what = "Plantroom and its test tools" if extras else "Plantroom"
    print(f"[run.py] installing {what} into .venv (first run only)", flush=True)
    _install(extras)
    _keep_urllib3_genuine(extras)
    (VENV / f".installed-{extras or 'base'}").write_text(wanted)
    return _python()


def _pip(*args: str) -> None:
    """Run pip in .venv with the options and build environment that keep urllib3 genuine."""
    pip = [str(_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, *args], check=True, env={**os.environ, **PIP_ENV})


def _install(extras: str, *, no_cache: bool = False) -> None:
    """Install the project, editable, with its extras."""
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    _pip("install", *PIP_OPTIONS, *(["--no-cache-dir"] if no_cache else []), "-e", target)


def _keep_urllib3_genuine(extras: str) -> None:
    """Replace a urllib3-future that installed itself over urllib3 with one under its own name."""
    found = _urllib3_overriders()
    if not found:
        return
    print(f"[run.py] {', '.join(found)} has replaced urllib3 in .venv; reinstalling", flush=True)
    # Both go: the fork's files are urllib3's too, so removing the fork leaves urllib3 broken.
    _pip("uninstall", "-y", *found, "urllib3")
    site_packages = subprocess.run(
        [str(_python()), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # What is left there now belongs to no distribution (the .pth's sync markers).
    shutil.rmtree(Path(site_packages) / "urllib3", ignore_errors=True)
    # Without the cache: a wheel built earlier without URLLIB3_NO_OVERRIDE would be reused.
    _install(extras, no_cache=True)
    found = _urllib3_overriders()
    if found:
        sys.exit(f"[run.py] {', '.join(found)} still replaces urllib3; delete {VENV}, run again.")


def _urllib3_overriders() -> list[str]:
    """The distributions in .venv other than urllib3 that install files into `urllib3`."""
    out = subprocess.run(
        [str(_python()), "-c", _URLLIB3_OVERRIDERS], check=True, capture_output=True, text=True
    ).stdout
    return sorted(set(out.split()))


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
