"""Physical links: one pymodbus client and one request in flight per TCP connection, gateway or
serial port. Nothing outside this module (and the simulator) imports pymodbus.

What a link does on trouble, and why:
- timeout: the connection stays up, so the other devices behind a gateway keep theirs; a reply
  that arrives late, with no request waiting, is discarded by pymodbus.
- a late reply that arrives while the next request waits shows up as a transaction-id (TCP) or
  unit-id (RTU) mismatch: the link reconnects, which clears the stream, and asks once more. That
  request was not at fault, so it is not counted against its device.
- pymodbus would also close the connection by itself after a few timeouts in a row. That would
  cut off every healthy device behind a gateway for one dead slave, so the link turns it off
  and decides itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from config.profile import RegisterTable
from config.site import RtuLink, RtuOverTcpLink, TcpLink

log = logging.getLogger(__name__)

#: Modbus exception codes worth retrying after a pause: 5 acknowledge, 6 device busy.
BUSY_CODES = frozenset({5, 6})
#: Gateway exceptions: 10 path unavailable, 11 target device failed to respond. The gateway
#: answered, but the device behind it did not.
GATEWAY_CODES = frozenset({10, 11})


#: The pymodbus client method that reads each register table.
_READ_METHODS = {
    RegisterTable.holding: "read_holding_registers",
    RegisterTable.input: "read_input_registers",
    RegisterTable.coil: "read_coils",
    RegisterTable.discrete: "read_discrete_inputs",
}


class ReadFailed(Exception):
    """A read produced no values.

    kind: 'timeout', 'connection', 'gateway' (exception 10 or 11: the device behind the gateway
    did not answer), 'exception' (any other Modbus exception code), 'mismatch' (replies out of
    step even after a reconnect) or 'garbage' (a reply of the wrong size).
    """

    def __init__(self, kind: str, message: str, code: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.code = code


@dataclass
class LinkStats:
    """Counters for self-monitoring."""

    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    reconnects: int = 0
    mismatches: int = 0
    wait_seconds: float = 0.0


class ModbusLink:
    """A physical link shared by the devices behind it; requests take turns."""

    def __init__(self, link: TcpLink | RtuLink | RtuOverTcpLink, *, timeout: float = 1.0):
        self.spec = link
        self.key = link.key
        self.timeout = timeout
        self.lock = asyncio.Lock()
        self.stats = LinkStats()
        self._quiet_until = 0.0
        self.client: AsyncModbusTcpClient | AsyncModbusSerialClient = self._client()

    def _client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        link = self.spec
        client: AsyncModbusTcpClient | AsyncModbusSerialClient
        if isinstance(link, RtuLink):
            client = AsyncModbusSerialClient(
                link.port,
                framer=FramerType.RTU,
                baudrate=link.baudrate,
                parity=link.parity,
                bytesize=link.bytesize,
                stopbits=link.stopbits,
                timeout=self.timeout,
                retries=0,
                reconnect_delay=0,
            )
        else:
            framer = FramerType.RTU if isinstance(link, RtuOverTcpLink) else FramerType.SOCKET
            client = AsyncModbusTcpClient(
                link.host,
                port=link.port,
                framer=framer,
                timeout=self.timeout,
                retries=0,
                reconnect_delay=0,
            )
        client.set_max_no_responses(1_000_000_000)  # the link decides when to reconnect
        return client

    async def _ensure_connected(self, pause_after_connect: float, timeout: float) -> None:
        if self.client.connected:
            return
        self.client.ctx.comm_params.timeout_connect = max(timeout, 1.0)
        try:
            ok = await asyncio.wait_for(self.client.connect(), max(timeout, 1.0) * 2)
        except (TimeoutError, OSError, ModbusException) as exc:
            self.stats.errors += 1
            raise ReadFailed("connection", f"{self.key}: cannot connect: {exc}") from exc
        if not ok:
            self.stats.errors += 1
            raise ReadFailed("connection", f"{self.key}: cannot connect")
        if pause_after_connect > 0:
            await asyncio.sleep(pause_after_connect)

    async def _reconnect(self) -> None:
        self.stats.reconnects += 1
        self.client.close()

    async def read(
        self,
        table: RegisterTable,
        address: int,
        count: int,
        unit_id: int,
        *,
        timeout: float,
        pause_after_connect: float = 0.0,
        pause_between: float = 0.0,
    ) -> list[int] | list[bool]:
        """Read count registers (or bits) at address from unit_id; raises ReadFailed."""
        asked = time.monotonic()
        async with self.lock:
            self.stats.wait_seconds += time.monotonic() - asked
            try:
                await self._ensure_connected(pause_after_connect, timeout)
                quiet = self._quiet_until - time.monotonic()
                if quiet > 0:
                    await asyncio.sleep(quiet)
                return await self._request(
                    table, address, count, unit_id, timeout, pause_after_connect
                )
            finally:
                self._quiet_until = max(self._quiet_until, time.monotonic() + pause_between)

    async def _request(
        self,
        table: RegisterTable,
        address: int,
        count: int,
        unit_id: int,
        timeout: float,
        pause_after_connect: float,
    ) -> list[int] | list[bool]:
        where = f"{self.key} unit {unit_id}"
        for attempt in (1, 2):
            c = self.client
            c.ctx.comm_params.timeout_connect = timeout
            call = getattr(c, _READ_METHODS[table])
            self.stats.requests += 1
            try:
                # pymodbus bounds the wait itself (asyncio.wait_for with the link's timeout), so
                # no second timer per request is needed here.
                rr = await call(address, count=count, device_id=unit_id)
            except ConnectionException as exc:
                self.stats.errors += 1
                await self._reconnect()
                raise ReadFailed("connection", f"{where}: {exc}") from exc
            except ModbusIOException as exc:
                text = str(exc)
                if "transaction id" in text or "device id" in text:
                    self.stats.mismatches += 1
                    await self._reconnect()
                    if attempt == 1:
                        await self._ensure_connected(pause_after_connect, timeout)
                        continue
                    raise ReadFailed("mismatch", f"{where}: replies out of step") from exc
                if "No response" in text:
                    self.stats.timeouts += 1
                    if not isinstance(self.spec, TcpLink):
                        # RTU frames carry no transaction id: keep the line quiet one more
                        # timeout, so a late reply lands with no request waiting and is dropped.
                        self._quiet_until = time.monotonic() + timeout
                    raise ReadFailed("timeout", f"{where}: no reply within {timeout:g} s") from exc
                self.stats.errors += 1
                await self._reconnect()
                raise ReadFailed("connection", f"{where}: {exc}") from exc
            except (ModbusException, OSError) as exc:
                self.stats.errors += 1
                await self._reconnect()
                raise ReadFailed("connection", f"{where}: {exc}") from exc
            if rr.isError():
                code = getattr(rr, "exception_code", None)
                self.stats.errors += 1
                kind = "gateway" if code in GATEWAY_CODES else "exception"
                raise ReadFailed(kind, f"{where}: Modbus exception {code}", code)
            values: list[int] | list[bool] = (
                list(rr.bits[:count]) if table.is_bits else list(rr.registers)
            )
            if len(values) != count:
                self.stats.errors += 1
                raise ReadFailed("garbage", f"{where}: asked {count}, got {len(values)}")
            return values
        raise AssertionError("unreachable")

    async def release(self) -> None:
        """Close the connection between polls, after any request in flight."""
        async with self.lock:
            self.client.close()

    def close(self) -> None:
        """Drop the connection now; the next read reconnects."""
        self.client.close()
