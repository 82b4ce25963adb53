"""A synthetic site for the benchmarks: SDM630 meters behind Modbus TCP gateways, and the
simulator serving it from child processes.

The site is written as YAML and loaded with ``plantroom.site.load_site``, so it is checked exactly
like a user's site. Its gateways sit on nominal ports; ``port_map`` moves them to free loopback
ports, as the tests do (the simulator takes the map, the collector takes ``remap_ports``).

Each gateway is served by its own simulator process, as each real gateway is its own hardware.
One process serving all of them would answer replies that fall due together one after another
(10 gateways with the same 20 ms delay stay in step), which is a cost of the testbed, not of the
links; with 10 gateways that alone measured about 10% over the bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import socket
import time
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from config.site import DeviceRef, SiteConfig, TcpLink, remap_ports
from plantroom.site import load_site

#: Nominal port of the first gateway; gateway g listens on BASE_PORT + g before remapping.
BASE_PORT = 16000
#: The issue's field bus: 10 gateways with 20 meters each.
GATEWAYS = 10
PER_GATEWAY = 20
_SUB_ITEMS = ("01A00", "01B00", "01C00", "01D00")


def device_id(g: int, unit: int) -> str:
    """The id of the meter with this unit id behind gateway g."""
    return f"gw{g:02d}-m{unit:02d}"


@dataclass(frozen=True)
class BenchSite:
    """SDM630 meters, units 1..per_gateway behind each of ``gateways`` Modbus TCP gateways.

    Devices in ``silent`` carry a 'silent' fault for the whole run: their gateway answers for
    them with exception 11 after its timeout.
    """

    gateways: int = GATEWAYS
    per_gateway: int = PER_GATEWAY
    poll_interval: float = 3.0
    silent: frozenset[str] = frozenset()

    def yaml(self, only: range | None = None) -> str:
        """The site.yaml text: one floor per gateway (only those in ``only``, if given)."""
        lines = [
            "site: {id: bench, name: Benchmark compound, timezone: Asia/Shanghai}",
            "buildings:",
            "  - id: bench-bldg",
            "    name: Benchmark building",
            "    floor_area_m2: 10000",
            "    occupants: 300",
            "    floors:",
        ]
        gateways = range(self.gateways) if only is None else only
        for g in gateways:
            lines += [
                f"      - id: floor-{g:02d}",
                f"        name: Floor {g} (gateway {g})",
                "        assets:",
            ]
            for unit in range(1, self.per_gateway + 1):
                dev = device_id(g, unit)
                lines += [
                    f"          - id: {dev}-asset",
                    f"            name: Meter {unit} behind gateway {g}",
                    "            class: Electrical_Meter",
                    f"            sub_item: '{_SUB_ITEMS[unit % len(_SUB_ITEMS)]}'",
                    "            devices:",
                    f"              - {{id: {dev}, profile: sdm630, unit_id: {unit}, "
                    f"poll_interval: {self.poll_interval:g}s,",
                    f"                 link: {{type: tcp, host: 127.0.0.1, "
                    f"port: {BASE_PORT + g}}}}}",
                ]
        ours = {device_id(g, u) for g in gateways for u in range(1, self.per_gateway + 1)}
        silent = sorted(self.silent & ours)
        if silent:
            lines += ["simulation:", "  faults:"]
            lines += [
                f"    - {{device: {d}, kind: silent, start: 0, duration: 1d}}" for d in silent
            ]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path, only: range | None = None) -> SiteConfig:
        """Write the site to folder/site.yaml and load it like a user's site."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "site.yaml").write_text(self.yaml(only))
        return load_site(folder)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_map(site: SiteConfig) -> dict[int, int]:
    """A free loopback port for every gateway of the site."""
    ports = sorted(
        {r.device.link.port for r in site.devices() if isinstance(r.device.link, TcpLink)}
    )
    return {p: free_port() for p in ports}


def devices(site: SiteConfig, mapping: dict[int, int]) -> list[DeviceRef]:
    """The site's devices pointed at the mapped ports."""
    return remap_ports(site.devices(), mapping)


def _serve(folder: str, mapping: dict[int, int], reply_delay: float, conn: Connection) -> None:
    """Child process: serve the site until told to stop; answer 'cpu' and 'requests'."""
    from collectors.simulator.server import Simulator

    async def main() -> None:
        sim = Simulator(load_site(folder), port_map=mapping, reply_delay=reply_delay)
        await sim.start()
        conn.send("ready")
        loop = asyncio.get_running_loop()
        while (order := await loop.run_in_executor(None, conn.recv)) != "stop":
            if order == "cpu":
                conn.send(time.process_time())
            elif order == "requests":
                conn.send(sum(sim.requests.values()))
        await sim.stop()

    asyncio.run(main())


class SimulatorProcess:
    """The simulator serving one site folder from a child process."""

    def __init__(self, folder: Path, mapping: dict[int, int], *, reply_delay: float = 0.0):
        ctx = mp.get_context("spawn")
        self._conn, theirs = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(str(folder), mapping, reply_delay, theirs), daemon=True
        )

    def start(self) -> None:
        """Start the child; ready() waits for it to listen."""
        self._proc.start()

    def ready(self) -> None:
        """Wait until the child listens on every port."""
        try:
            ok = self._conn.poll(60) and self._conn.recv() == "ready"
        except EOFError:
            ok = False
        if not ok:
            raise RuntimeError(f"the simulator process did not start (exit {self._proc.exitcode})")

    def stop(self) -> None:
        """Stop the child."""
        if self._proc.is_alive():
            with contextlib.suppress(OSError):  # it may have died on its own
                self._conn.send("stop")
            self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)

    def ask(self, order: str) -> float:
        """A figure from the child: 'cpu' seconds used, or 'requests' received."""
        self._conn.send(order)
        return float(self._conn.recv())


class Simulators:
    """A BenchSite served by the real simulator from child processes, ``per_process`` gateways
    each (by default one process per gateway).

    ``with Simulators(bench, folder, mapping, reply_delay=0.02) as sims: ...``
    """

    def __init__(
        self,
        bench: BenchSite,
        folder: Path,
        mapping: dict[int, int],
        *,
        reply_delay: float,
        per_process: int = 1,
    ):
        self.procs = []
        for first in range(0, bench.gateways, per_process):
            shard = folder / f"gateways-{first:02d}"
            bench.write(shard, only=range(first, min(first + per_process, bench.gateways)))
            self.procs.append(SimulatorProcess(shard, mapping, reply_delay=reply_delay))
        self._stack = ExitStack()

    def __enter__(self) -> Simulators:
        with ExitStack() as stack:
            for p in self.procs:
                p.start()
                stack.callback(p.stop)
            for p in self.procs:
                p.ready()
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stack.close()

    def cpu_seconds(self) -> float:
        """CPU time all simulator processes have used so far."""
        return sum(p.ask("cpu") for p in self.procs)

    def requests(self) -> int:
        """Requests all simulated devices have received so far."""
        return int(sum(p.ask("requests") for p in self.procs))
