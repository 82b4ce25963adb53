#!/usr/bin/env python3
"""Throw-away InfluxDB 1.x and PostgreSQL servers on loopback, for the tests.

    python3 scripts/services.py start [--dir DIR] [--influx-port N] [--pg-port N]

starts each server that does not answer on its port yet, in DIR, detached, and prints the
`export PLANTROOM_TEST_...=...` lines the tests read (.ci/services.sh evals them). Those servers run
until the machine stops or someone stops them.

`python3 run.py test` uses `for_tests()` instead: a server that the environment names neither by
its variable nor by an answer on the default port is started on a free port in a temporary folder,
and stopped and deleted when the tests end.

Both need Debian's packages (influxdb for `influxd`, postgresql for /usr/lib/postgresql/*/bin).
Standard library only: run.py and .ci/services.sh run this with the system's python3.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

INFLUX_VAR = "PLANTROOM_TEST_INFLUX_URL"
PG_VAR = "PLANTROOM_TEST_DATABASE_URL"
#: Where the tests look when the variables are unset (tests/conftest.py), and where .ci starts them.
INFLUX_PORT = 18086
PG_PORT = 55432


def say(message: str) -> None:
    """A progress line on stderr (stdout carries the export lines)."""
    print(f"[services] {message}", file=sys.stderr, flush=True)


def influx_url(port: int) -> str:
    """The URL the tests use for an InfluxDB on that loopback port."""
    return f"http://127.0.0.1:{port}"


def pg_url(port: int) -> str:
    """The admin URL the tests use for a PostgreSQL on that loopback port."""
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def influx_answers(url: str) -> bool:
    """Whether an InfluxDB answers /ping at url."""
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=2) as r:
            return 200 <= r.status < 300
    except OSError:
        return False


def port_answers(port: int) -> bool:
    """Whether something accepts TCP connections on that loopback port."""
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def influxd() -> str | None:
    """The influxd binary, if InfluxDB is installed."""
    return shutil.which("influxd")


def pg_bin() -> Path | None:
    """The newest PostgreSQL's bin folder (Debian's layout, else initdb on PATH), if installed."""

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in p.parent.name.split(".") if x.isdigit())

    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: version(p.parent)
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _wait(
    what: str,
    check: Callable[[], bool],
    seconds: float,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up in {seconds:.0f} s")


def _tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-20:])
    except OSError:
        return ""


def start_influx(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """influxd on 127.0.0.1:port with its data in folder (emptied first); returns once it answers.

    It runs in a session of its own, so a Ctrl-C meant for the tests does not stop it first."""
    binary = influxd()
    if binary is None:
        raise RuntimeError("influxd is not installed (apt-get install influxdb)")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    conf = folder / "influxdb.conf"
    conf.write_text(
        "reporting-disabled = true\n"
        f'bind-address = "127.0.0.1:{free_port()}"\n'
        f'[meta]\n  dir = "{folder}/meta"\n'
        f'[data]\n  dir = "{folder}/data"\n  wal-dir = "{folder}/wal"\n'
        "  query-log-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{port}"\n  log-enabled = false\n'
        "[monitor]\n  store-enabled = false\n"
    )
    log = folder / "influxd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-config", str(conf)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait("InfluxDB", lambda: influx_answers(influx_url(port)), 60, proc)
    except RuntimeError as exc:
        stop_process(proc)
        raise RuntimeError(f"{exc}; {log}:\n{_tail(log)}") from None
    return proc


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate proc, then kill it if it has not gone after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _as_postgres() -> list[str]:
    # initdb refuses to run as root; Debian's package made the postgres user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def start_postgres(folder: Path, port: int) -> Path:
    """A PostgreSQL cluster in folder (emptied first) on 127.0.0.1:port, trusting local logins
    as postgres, without fsync; returns its data directory once it accepts connections."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, log = folder / "data", folder / "postgres.log"
    run_as = _as_postgres()
    done = subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-N"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')[-2000:]}")
    options = (
        f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c full_page_writes=off "
        "-c synchronous_commit=off -c max_connections=200"
    )
    done = subprocess.run(
        [
            *run_as,
            str(bin_dir / "pg_ctl"),
            "start",
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        ],
        start_new_session=True,  # the server outlives a Ctrl-C meant for the tests
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # it writes to the log
    )
    if done.returncode != 0:
        raise RuntimeError(f"PostgreSQL did not start; {log}:\n{_tail(log)}")
    _wait("PostgreSQL", lambda: port_answers(port), 30)
    return data


def stop_postgres(data: Path) -> None:
    """Stop the cluster in data at once (it is thrown away)."""
    bin_dir = pg_bin()
    if bin_dir is not None:
        subprocess.run(
            [*_as_postgres(), str(bin_dir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


@contextlib.contextmanager
def for_tests(environ: Mapping[str, str] = os.environ) -> Iterator[dict[str, str]]:
    """The variables to add to environ for the tests, starting what they name meanwhile.

    A server is started only when its variable is unset, nothing answers on its default port and
    it is installed; it listens on a free loopback port, keeps its data in a temporary folder,
    and is stopped, with the folder deleted, when the block ends. A server that fails to start is
    reported and left out: its tests then skip, or fail under CI."""
    added: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        root: list[Path] = []

        def folder(name: str) -> Path:
            if not root:
                root.append(Path(tempfile.mkdtemp(prefix="plantroom-test-services-")))
                root[0].chmod(0o755)  # PostgreSQL runs as the postgres user under root
                stack.callback(shutil.rmtree, root[0], ignore_errors=True)
            return root[0] / name

        if not environ.get(INFLUX_VAR) and not influx_answers(influx_url(INFLUX_PORT)):
            if influxd() is None:
                say("InfluxDB is not installed: its tests will skip (apt-get install influxdb)")
            else:
                port = free_port()
                try:
                    stack.callback(stop_process, start_influx(folder("influxdb"), port))
                    added[INFLUX_VAR] = influx_url(port)
                    say(f"started a throw-away InfluxDB on 127.0.0.1:{port}")
                except RuntimeError as exc:
                    say(f"could not start InfluxDB: {exc}")
        if not environ.get(PG_VAR) and not port_answers(PG_PORT):
            if pg_bin() is None:
                say("PostgreSQL is not installed: its tests will skip (apt-get install postgresql)")
            else:
                port = free_port()
                try:
                    stack.callback(stop_postgres, start_postgres(folder("postgres"), port))
                    added[PG_VAR] = pg_url(port)
                    say(f"started a throw-away PostgreSQL on 127.0.0.1:{port}")
                except RuntimeError as exc:
                    say(f"could not start PostgreSQL: {exc}")
        yield added


def cmd_start(args: argparse.Namespace) -> int:
    """Start what does not answer yet, detached, and print the export lines."""
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    if influx_answers(influx_url(args.influx_port)):
        say(f"InfluxDB already answers on 127.0.0.1:{args.influx_port}")
    else:
        start_influx(folder / "influxdb", args.influx_port)
        say(f"InfluxDB is up on 127.0.0.1:{args.influx_port}")
    if port_answers(args.pg_port):
        say(f"PostgreSQL already answers on 127.0.0.1:{args.pg_port}")
    else:
        start_postgres(folder / "postgres", args.pg_port)
        say(f"PostgreSQL is up on 127.0.0.1:{args.pg_port}")
    print(f"export {INFLUX_VAR}={influx_url(args.influx_port)}")
    print(f"export {PG_VAR}={pg_url(args.pg_port)}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start what does not answer yet; print export lines")
    start.add_argument("--dir", default="/tmp/plantroom-services")
    start.add_argument("--influx-port", type=int, default=INFLUX_PORT)
    start.add_argument("--pg-port", type=int, default=PG_PORT)
    args = parser.parse_args(argv)
    try:
        return cmd_start(args)
    except RuntimeError as exc:
        say(str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
