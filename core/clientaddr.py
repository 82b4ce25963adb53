"""The client's address, trusting forwarded headers only from the operator's own proxies.

uvicorn's own proxy handling is off in every server we start (`proxy_headers=False`): by default
it believes X-Forwarded-For from loopback, so anything that could reach the app through a local
proxy, or from the machine itself, could claim any address and slip past per-address limits.
Instead `client_address` reads X-Forwarded-For only when the direct peer is one of
PLANTROOM_TRUSTED_PROXIES (addresses or networks, comma-separated), and then takes the nearest
address in the chain that is not itself a trusted proxy. The app keeps the parsed list on
`app.state.trusted_proxies` (plantroom.app.create_app).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_proxies(text: str) -> tuple[Network, ...]:
    """'10.0.0.5, 192.168.1.0/24' as networks; ValueError naming a bad entry."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"PLANTROOM_TRUSTED_PROXIES: {part!r} is not an address or network"
            ) from exc
    return tuple(out)


def _trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(conn: HTTPConnection, proxies: Iterable[Network] = ()) -> str:
    """The address the request came from: the direct peer, or, when the peer is one of the
    trusted proxies, the last address in X-Forwarded-For that is not a trusted proxy."""
    peer = conn.client.host if conn.client else "unknown"
    proxies = tuple(proxies)
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in ",".join(conn.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, proxies):
            return hop
    return peer


def request_client(conn: HTTPConnection) -> str:
    """client_address with the app's trusted proxies (app.state.trusted_proxies)."""
    return client_address(conn, conn.app.state.trusted_proxies)
