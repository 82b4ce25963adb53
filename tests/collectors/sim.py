"""Test helpers: the demo simulator on free loopback ports, and a collector pointed at it."""

from __future__ import annotations

import random
import socket

from collectors.simulator.server import Simulator
from config.site import RtuLink, SiteConfig


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_offset(base: int = 15020, count: int = 4) -> int:
    """An offset that moves ports base..base+count-1 (the demo simulator's) to free ones below
    the kernel's ephemeral range (32768 up), where no outgoing connection of another test or
    xdist worker can be given one of them meanwhile."""
    rng = random.Random()
    for _ in range(200):
        offset = rng.randrange(1000, 32768 - base - count)
        try:
            for port in range(base + offset, base + offset + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return offset
    raise RuntimeError(f"no {count} free ports in a row below 32768")


def port_map(site: SiteConfig) -> dict[int, int]:
    """A free port for every TCP endpoint of the site."""
    ports = {d.device.link.port for d in site.devices() if not isinstance(d.device.link, RtuLink)}
    return {p: free_port() for p in sorted(ports)}


def simulator(site: SiteConfig, mapping: dict[int, int], **kw: object) -> Simulator:
    """A simulator serving the site on the mapped ports (call start/stop)."""
    return Simulator(site, port_map=mapping, **kw)  # type: ignore[arg-type]
