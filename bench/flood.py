"""A technician's list while strangers flood the public pages (issue 12, items 5 and 6).

One `plantroom serve` process (the real server: uvicorn, one worker, the work-order services)
on a throw-away SQLite database. A technician's tablet asks for its open work
(`GET /api/v1/workorders?assignee=me&open=true`) one request after another, and its latency is
taken in three phases of --seconds each, in this one run:

1. idle: nobody else;
2. report flood: --clients concurrent senders post the occupant report form (/r/<asset>) as
   fast as they can, each post with a fresh invented X-Forwarded-For, spread over the assets;
3. brute force: --clients concurrent senders post wrong passwords to the sign-in form, for the
   technician's account and for invented ones, each with a fresh invented X-Forwarded-For.

The floods run in a separate process, so they do not share the measuring client's GIL. The
figure is each flood phase's median latency against the idle median (the issue's bar: at most
2x), with p95, and what the floods got back (the server's answers by status).

Run: .venv/bin/python -m bench.flood [--seconds 10] [--clients 20]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

from bench._site import free_port

ADMIN = "bench-admin-token-" + "x" * 16
PASSWORD = "technician-password"
ASSETS = ["pump-1", "pump-2", "lift-a1", "lift-b1", "water-main"]


def _start_server(data: Path, port: int, botnet: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        # --botnet: believe the floods' invented X-Forwarded-For, as if every post came from a
        # different address through a trusted proxy (the worst case for per-address limits)
        "PLANTROOM_TRUSTED_PROXIES": "127.0.0.1" if botnet else "",
        "PLANTROOM_ADMIN_TOKEN": ADMIN,
        "PLANTROOM_COOKIE_SECURE": "false",  # plain HTTP on loopback, as in the demo
        "PLANTROOM_DATA_DIR": str(data),
    }
    env.pop("PLANTROOM_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "plantroom.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def _setup(base: str, data: Path) -> str:
    """A technician with 25 open work orders of their own; a bearer token for their tablet."""
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
    user = admin.post(
        "/api/v1/users", json={"username": "lin", "role": "technician", "password": PASSWORD}
    ).json()
    for i in range(25):
        wo = admin.post("/api/v1/workorders", json={"title": f"Job {i}", "priority": "P3"}).json()
        admin.post(f"/api/v1/workorders/{wo['id']}/assign", json={"assignee_id": user["id"]})
    out = subprocess.run(
        [sys.executable, "-m", "plantroom.cli", "tokens", "create", "lin", "--name", "tablet"],
        env={**os.environ, "PLANTROOM_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _measure(base: str, token: str, seconds: float) -> dict[str, list[float]]:
    """The technician's tablet for `seconds`, one request after another: its list (answered
    from the list cache while nothing in it changes) and, in turn, one of its work orders
    (built from the database every time); latencies in ms, by kind."""
    out: dict[str, list[float]] = {"list": [], "detail": []}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        ids = [
            w["id"] for w in c.get("/api/v1/workorders", params={"assignee": "me"}).json()["items"]
        ]
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            kind = "list" if n % 2 == 0 else "detail"
            t = time.perf_counter()
            if kind == "list":
                r = c.get("/api/v1/workorders", params={"assignee": "me", "open": "true"})
            else:
                r = c.get(f"/api/v1/workorders/{ids[n % len(ids)]}")
            out[kind].append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"the technician's {kind} answered {r.status_code}")
            n += 1
    return out


def _invented() -> str:
    return f"203.0.{random.randrange(256)}.{random.randrange(1, 255)}"


async def _report_flood(base: str, clients: int, seconds: float) -> collections.Counter[int]:
    codes: collections.Counter[int] = collections.Counter()

    async def one() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            asset = random.choice(ASSETS)
            page = await c.get(f"/r/{asset}")
            csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                r = await c.post(
                    f"/r/{asset}",
                    data={"csrf": csrf, "description": "spam " + _invented(), "contact": ""},
                    files={"photo": ("", b"", "application/octet-stream")},
                    headers={"X-Forwarded-For": _invented()},
                )
                codes[r.status_code] += 1

    await asyncio.gather(*(one() for _ in range(clients)))
    return codes


async def _login_flood(base: str, clients: int, seconds: float) -> collections.Counter[int]:
    codes: collections.Counter[int] = collections.Counter()

    async def one(i: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            page = await c.get("/ui/login")
            csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            end = time.monotonic() + seconds
            n = 0
            while time.monotonic() < end:
                user = "lin" if i % 2 == 0 else f"guess-{i}-{n}"
                r = await c.post(
                    "/ui/login",
                    data={"username": user, "password": f"wrong-{n}", "csrf": csrf},
                    headers={"X-Forwarded-For": _invented()},
                )
                codes[r.status_code] += 1
                n += 1
                if 'name="csrf" value="' in r.text:  # each answer carries a fresh form
                    csrf = r.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]

    await asyncio.gather(*(one(i) for i in range(clients)))
    return codes


def _flooder(kind: str, base: str, clients: int, seconds: float, conn: Connection) -> None:
    flood = _report_flood if kind == "report" else _login_flood
    conn.send(dict(asyncio.run(flood(base, clients, seconds))))


def _phase(
    name: str, base: str, token: str, seconds: float, clients: int
) -> dict[str, list[float]]:
    if name == "idle":
        return _measure(base, token, seconds)
    here, there = mp.Pipe()
    proc = mp.Process(target=_flooder, args=(name, base, clients, seconds, there), daemon=True)
    proc.start()
    time.sleep(1.0)  # let the flood get going
    lat = _measure(base, token, seconds - 2)
    codes = here.recv()
    proc.join(timeout=60)
    print(f"  {name} flood answers: {dict(sorted(codes.items()))}", flush=True)
    return lat


def _summary(lat: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(lat, n=20)
    return statistics.median(lat), q[18]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument(
        "--botnet",
        action="store_true",
        help="every flood request from a different address (through a trusted proxy)",
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = _start_server(data, port, args.botnet)
        try:
            token = _setup(base, data)
            results = {}
            for name in ("idle", "report", "login"):
                results[name] = _phase(name, base, token, args.seconds, args.clients)
                for kind, lat in results[name].items():
                    med, p95 = _summary(lat)
                    print(
                        f"{name:>7} {kind:>6}: {len(lat):5d} requests, median {med:6.1f} ms, "
                        f"p95 {p95:6.1f} ms"
                    )
            mode = "every request from its own address" if args.botnet else "one flooding address"
            for kind in ("list", "detail"):
                idle = statistics.median(results["idle"][kind])
                for name in ("report", "login"):
                    med, p95 = _summary(results[name][kind])
                    print(
                        f"technician's {kind} during the {name} flood ({mode}): median "
                        f"{med:.1f} ms vs {idle:.1f} ms idle, ratio {med / idle:.2f} "
                        f"(bar <= 2.0); p95 {p95:.1f} ms"
                    )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
