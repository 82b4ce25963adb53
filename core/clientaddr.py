"""The client's address, trusting forwarded headers only from the operator's own proxies.

uvicorn's own proxy handling is off in every server we start (`proxy_headers=False`): by default
it believes X-Forwarded-For from loopback, so anything that could reach the app through a local
proxy, or from the machine itself, could claim any address and slip past per-address limits.
Instead `client_address` reads X-Forwarded-For only when the direct peer is one of
PLANTROOM_TRUSTED_PROXIES (addresses or networks, comma-separated), and then takes the nearest
address in the chain that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import HTTPConnection

from config.settings import Network, parse_proxies


def _trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(conn: HTTPConnection, trusted: str = "") -> str:
    """The address the request came from: the direct peer, or, when the peer is a trusted
    proxy, the last address in X-Forwarded-For that is not a trusted proxy."""
    peer = conn.client.host if conn.client else "unknown"
    proxies = parse_proxies(trusted)
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in ",".join(conn.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, proxies):
            return hop
    return peer


def request_client(conn: HTTPConnection) -> str:
    """client_address with the app's settings."""
    return client_address(conn, getattr(conn.app.state.settings, "trusted_proxies", "") or "")
