#!/usr/bin/env python3
"""Set up a virtual environment on first use, then run the demo or the tests.

    python3 run.py demo [plantroom demo options]
    python3 run.py test [pytest options]     every test (what CI runs)
    python3 run.py quick [pytest options]    all but the `slow` and `browser` tests

The environment lives in .venv/ and is reinstalled when pyproject.toml changes, or when
urllib3-future has taken the place of urllib3 in it.

The tests run in parallel (pytest-xdist, one worker per core, at most 4; `-n 0` turns that off).
InfluxDB and PostgreSQL that are installed but neither running on the tests' default ports nor
named by PLANTROOM_TEST_INFLUX_URL / PLANTROOM_TEST_DATABASE_URL are started for the run on free
loopback ports, with throw-away data, and stopped afterwards (scripts/services.py).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"

#: What `quick` leaves out: tests that start processes or take seconds, and the browser tests.
QUICK = ["-m", "not slow and not browser"]
#: pytest-xdist: a worker per core, at most 4 (more would crowd the one PostgreSQL and InfluxDB).
#: Each worker is handed one test at a time as it frees up (`load` scheduling, chunks of 1), and
#: tests/conftest.py puts the `slow` tests first: the long ones are spread over the workers early
#: and the run ends on short ones, with no worker left holding a queue behind a long test.
PARALLEL = ["-n", "auto", "--maxprocesses", "4", "--dist", "load", "--maxschedchunk", "1"]

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


def _services() -> ModuleType:
    """scripts/services.py (the throw-away test servers), shared with .ci/services.sh."""
    spec = importlib.util.spec_from_file_location("services", ROOT / "scripts" / "services.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parallel(args: list[str]) -> list[str]:
    """PARALLEL, unless the pytest options already say how many workers (or no xdist)."""
    for i, arg in enumerate(args):
        if arg.startswith(("-n", "--numprocesses")) or (
            arg == "-p" and args[i + 1 : i + 2] == ["no:xdist"]
        ):
            return []
    return PARALLEL


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "quick"}:
        print(__doc__)
        return 2
    py = ensure_env("" if argv[0] == "demo" else "dev")
    os.chdir(ROOT)
    if argv[0] == "demo":
        return _run([str(py), "-m", "plantroom.cli", "demo", *argv[1:]], dict(os.environ))
    args = argv[1:]
    # `quick`'s -m comes first: a -m among the options given wins.
    cmd = [str(py), "-m", "pytest", *_parallel(args), *(QUICK if argv[0] == "quick" else []), *args]
    with _services().for_tests() as added:
        return _run(cmd, {**os.environ, **added})


def _run(cmd: list[str], env: dict[str, str]) -> int:
    """Run cmd to its end, passing on the signals this process gets; its exit status."""
    proc = subprocess.Popen(cmd, env=env)

    def forward(sig: int, _frame: object) -> None:
        # Ctrl-C reaches the child from the terminal too; passing it on is harmless and covers a
        # signal sent to this process alone (kill, a service manager).
        proc.send_signal(sig)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
