"""Serve every device of a site over real Modbus (pymodbus server), one server per endpoint.

Devices sharing a host:port sit behind one server as unit ids, as they would behind a gateway.
Register values are computed from the device's model at the moment each read arrives.

Timing, for benchmarks and tests: ``reply_delay`` holds every answer back by that many seconds
(a device's turnaround plus the serial line), and a device under a 'silent' fault is answered
like a serial gateway answers for a dead slave: nothing for ``gateway_timeout`` seconds, then
exception 11. Both wait with ``asyncio.sleep``, so one slow device holds up only the request
waiting for it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from collectors.decode import encode_raw, from_engineering
from collectors.simulator.models import DeviceModel, build_models
from config.profile import Point, PointType, RegisterTable
from config.site import DeviceRef, RtuLink, SiteConfig

#: How long a gateway waits for a silent device before answering "target failed to respond".
GATEWAY_TIMEOUT_S = 0.25
_TABLE_BY_FC = {
    3: RegisterTable.holding,
    6: RegisterTable.holding,
    16: RegisterTable.holding,
    4: RegisterTable.input,
}


@dataclass
class Endpoint:
    """One listening server and the devices behind it."""

    kind: str
    host: str
    port: int | str
    devices: list[DeviceRef] = field(default_factory=list)
    server: ModbusTcpServer | ModbusSerialServer | None = None
    #: Line settings, for a serial endpoint.
    serial: RtuLink | None = None

    @property
    def label(self) -> str:
        """How a user addresses it."""
        if self.kind == "rtu":
            return f"rtu {self.port}"
        return f"{self.kind} {self.host}:{self.port}"


def decode_mask(point: Point) -> int:
    """The register bits that a 'bit' point occupies, in wire order."""
    regs = encode_raw(point, True)
    return int(regs[0])


def _absent_units_are_silent(
    units: frozenset[int], sending: bool, pdu: ModbusPDU
) -> ModbusPDU | None:
    """Drop requests to units not on the line (None drops): on RS-485 nobody answers for them."""
    if not sending and pdu.dev_id not in units:
        return None
    return pdu


def _register_block(points: list[Point]) -> list[SimData]:
    if not points:
        return [SimData(0, count=1, datatype=DataType.INVALID)]
    lo = min(p.address for p in points)
    hi = max(p.address + p.registers for p in points)
    return [SimData(lo, count=hi - lo, values=0, datatype=DataType.REGISTERS)]


class Simulator:
    """The simulated building. ``await start()``, then ``await stop()``."""

    def __init__(
        self,
        site: SiteConfig,
        *,
        port_offset: int = 0,
        port_map: dict[int, int] | None = None,
        serial_map: dict[str, str] | None = None,
        bind: str | None = None,
        clock: Callable[[], float] = time.time,
        started_at: float | None = None,
        reply_delay: float = 0.0,
        gateway_timeout: float = GATEWAY_TIMEOUT_S,
        counters: Mapping[str, Mapping[str, float]] | None = None,
    ):
        if reply_delay < 0 or gateway_timeout < 0:
            raise ValueError("reply_delay and gateway_timeout cannot be negative")
        self.site = site
        self.clock = clock
        #: Seconds every answer is held back.
        self.reply_delay = reply_delay
        #: Seconds the gateway waits for a silent device before answering exception 11.
        self.gateway_timeout = gateway_timeout
        #: Scripted faults are timed from here; tests may pretend it started earlier.
        self.t0 = clock() if started_at is None else started_at
        self.models: dict[str, DeviceModel] = build_models(site, self.t0, counters=counters)
        #: Requests that reached each device, by device id.
        self.requests: Counter[str] = Counter()
        self.endpoints: dict[str, Endpoint] = {}
        for ref in site.devices():
            link = ref.device.link
            if isinstance(link, RtuLink):
                # serial_map: serve the device end of a line, e.g. the other half of a pty pair.
                path = (serial_map or {}).get(link.port, link.port)
                key, ep = link.key, Endpoint("rtu", "", path, serial=link)
            else:
                port = (port_map or {}).get(link.port, link.port + port_offset)
                key = f"{link.type}://{link.host}:{port}"
                ep = Endpoint(link.type, bind or link.host, port)
            self.endpoints.setdefault(key, ep).devices.append(ref)

    def set_value(self, device_id: str, point: str, value: float | bool | str | None) -> None:
        """Force a point to a value (None releases it): for tests and demonstrations."""
        model = self.models[device_id]
        if value is None:
            model.overrides.pop(point, None)
        else:
            model.overrides[point] = value

    def _sim_device(self, ref: DeviceRef) -> SimDevice:
        points = ref.profile.points
        by_table: dict[RegisterTable, list[Point]] = defaultdict(list)
        for p in points:
            by_table[p.table].append(p)
        if by_table[RegisterTable.coil] or by_table[RegisterTable.discrete]:
            raise NotImplementedError(
                f"profile {ref.profile.profile}: the simulator serves registers only, not bits"
            )
        bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
        return SimDevice(
            id=ref.device.unit_id,
            simdata=(
                bits,
                list(bits),
                _register_block(by_table[RegisterTable.holding]),
                _register_block(by_table[RegisterTable.input]),
            ),
            action=partial(self._on_request, ref, by_table),
        )

    async def _on_request(
        self,
        ref: DeviceRef,
        by_table: dict[RegisterTable, list[Point]],
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.requests[ref.device.id] += 1
        model = self.models[ref.device.id]
        now = self.clock()
        if model.faults.silent(now):
            # The gateway's own timeout stands in for the device's turnaround, not on top of it.
            await asyncio.sleep(self.gateway_timeout)
            return ExcCodes.GATEWAY_NO_RESPONSE
        if self.reply_delay > 0:
            await asyncio.sleep(self.reply_delay)
            now = self.clock()  # the values of the moment the answer leaves
        table = _TABLE_BY_FC.get(function_code)
        if table is None or set_values is not None:
            return None
        values = model.step(now)
        # Whole-register points first; 'bit' points then set or clear only their own bit.
        for p in sorted(by_table[table], key=lambda p: p.type is PointType.bit):
            # Only the points asked for: the simulator stands in for hundreds of devices on
            # one CPU, and encoding a whole register map per read would make it the bottleneck.
            asked = p.address < address + count and p.address + p.registers > address
            if not asked or p.name not in values:
                continue
            at = p.address - start_address
            if p.type is PointType.bit:
                mask = decode_mask(p)
                on = bool(values[p.name])
                registers[at] = (registers[at] | mask) if on else (registers[at] & ~mask & 0xFFFF)
                continue
            regs = encode_raw(p, from_engineering(p, values[p.name]))
            registers[at : at + len(regs)] = regs
        return None

    async def start(self) -> None:
        """Start listening on every endpoint."""
        for ep in self.endpoints.values():
            devices = [self._sim_device(r) for r in ep.devices]
            if ep.kind == "rtu" and ep.serial is not None:
                line = ep.serial
                units = frozenset(r.device.unit_id for r in ep.devices)
                ep.server = ModbusSerialServer(
                    devices,
                    framer=FramerType.RTU,
                    port=str(ep.port),
                    baudrate=line.baudrate,
                    parity=line.parity,
                    bytesize=line.bytesize,
                    stopbits=line.stopbits,
                    # pymodbus would answer "device failure"; its hook may return None to drop.
                    trace_pdu=partial(_absent_units_are_silent, units),  # type: ignore[arg-type]
                )
            else:
                framer = FramerType.RTU if ep.kind == "rtu_over_tcp" else FramerType.SOCKET
                ep.server = ModbusTcpServer(devices, framer=framer, address=(ep.host, int(ep.port)))
            await ep.server.serve_forever(background=True)

    async def stop(self) -> None:
        """Close every server."""
        for ep in self.endpoints.values():
            if ep.server is not None:
                await ep.server.shutdown()
                ep.server = None

    def describe(self) -> list[str]:
        """One line per device: how to reach it."""
        lines = []
        for ep in self.endpoints.values():
            for ref in ep.devices:
                lines.append(
                    f"{ref.device.id:<20} {ref.profile.profile:<20} {ep.label:<28} "
                    f"unit {ref.device.unit_id}"
                )
        return lines
