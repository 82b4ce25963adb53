"""The baseline the benchmarks measure against: a bare pymodbus client loop sending exactly the
requests the planner plans, one after another per gateway."""

from __future__ import annotations

from collections import defaultdict

from pymodbus.client import AsyncModbusTcpClient

from collectors.planner import ReadRequest
from collectors.poller import Collector
from config.profile import RegisterTable
from config.site import TcpLink

#: One gateway's work in a sweep: (unit id, request) in the order the collector plans them.
Work = list[tuple[int, ReadRequest]]


def gateway_work(col: Collector) -> dict[str, Work]:
    """Per link key, every request one sweep of the collector sends through it."""
    out: dict[str, Work] = defaultdict(list)
    for st in col.devices.values():
        for reqs in st.groups.values():
            out[st.ref.device.link.key] += [(st.ref.device.unit_id, r) for r in reqs]
    return dict(out)


async def bare_clients(col: Collector, *, timeout: float = 1.0) -> dict[str, AsyncModbusTcpClient]:
    """One connected bare client per gateway of the collector (close them when done)."""
    clients: dict[str, AsyncModbusTcpClient] = {}
    for key, link in col.links.items():
        spec = link.spec
        if not isinstance(spec, TcpLink):
            raise TypeError(f"{key}: the baseline speaks Modbus TCP only")
        clients[key] = AsyncModbusTcpClient(spec.host, port=spec.port, timeout=timeout, retries=0)
        if not await clients[key].connect():
            raise ConnectionError(f"{key}: cannot connect")
    return clients


async def bare_requests(client: AsyncModbusTcpClient, work: Work) -> int:
    """Send the requests one after another, as a bare pymodbus loop; returns error replies."""
    errors = 0
    for unit, req in work:
        call = {
            RegisterTable.holding: client.read_holding_registers,
            RegisterTable.input: client.read_input_registers,
            RegisterTable.coil: client.read_coils,
            RegisterTable.discrete: client.read_discrete_inputs,
        }[req.table]
        rr = await call(req.address, count=req.count, device_id=unit)
        errors += rr.isError()
    return errors
