"""Physical links: one pymodbus client and one request in flight per TCP connection, gateway or
serial port. Nothing outside this module (and the simulator) imports pymodbus."""

from __future__ import annotations

import asyncio
import logging

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from config.profile import RegisterTable
from config.site import RtuLink, RtuOverTcpLink, TcpLink

log = logging.getLogger(__name__)


class ReadFailed(Exception):
    """A read produced no values: timeout, Modbus exception or lost connection."""

    def __init__(self, kind: str, message: str, code: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.code = code


class ModbusLink:
    """A physical link shared by the devices behind it; requests take turns."""

    def __init__(self, link: TcpLink | RtuLink | RtuOverTcpLink, *, timeout: float = 1.0):
        self.spec = link
        self.key = link.key
        self.timeout = timeout
        self.lock = asyncio.Lock()
        self.client: AsyncModbusTcpClient | AsyncModbusSerialClient = self._client()

    def _client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        link = self.spec
        common = {"timeout": self.timeout, "retries": 0, "reconnect_delay": 0}
        if isinstance(link, RtuLink):
            return AsyncModbusSerialClient(
                link.port,
                framer=FramerType.RTU,
                baudrate=link.baudrate,
                parity=link.parity,
                bytesize=link.bytesize,
                stopbits=link.stopbits,
                **common,  # type: ignore[arg-type]
            )
        framer = FramerType.RTU if isinstance(link, RtuOverTcpLink) else FramerType.SOCKET
        return AsyncModbusTcpClient(link.host, port=link.port, framer=framer, **common)  # type: ignore[arg-type]

    async def _ensure_connected(self) -> None:
        if self.client.connected:
            return
        try:
            ok = await asyncio.wait_for(self.client.connect(), self.timeout * 2)
        except (TimeoutError, OSError) as exc:
            raise ReadFailed("connection", f"{self.key}: cannot connect: {exc}") from exc
        if not ok:
            raise ReadFailed("connection", f"{self.key}: cannot connect")

    async def read(
        self, table: RegisterTable, address: int, count: int, unit_id: int, timeout: float
    ) -> list[int] | list[bool]:
        """Read count registers (or bits) at address from unit_id; raises ReadFailed."""
        async with self.lock:
            await self._ensure_connected()
            c = self.client
            call = {
                RegisterTable.holding: c.read_holding_registers,
                RegisterTable.input: c.read_input_registers,
                RegisterTable.coil: c.read_coils,
                RegisterTable.discrete: c.read_discrete_inputs,
            }[table]
            try:
                rr = await asyncio.wait_for(
                    call(address, count=count, device_id=unit_id), timeout + 0.5
                )
            except TimeoutError as exc:
                self.close()  # a late reply must not be taken for the next request's
                raise ReadFailed("timeout", f"{self.key} unit {unit_id}: no reply") from exc
            except ModbusException as exc:
                self.close()
                kind = (
                    "timeout"
                    if "timeout" in str(exc).lower() or "no response" in str(exc).lower()
                    else "connection"
                )
                raise ReadFailed(kind, f"{self.key} unit {unit_id}: {exc}") from exc
            except OSError as exc:
                self.close()
                raise ReadFailed("connection", f"{self.key} unit {unit_id}: {exc}") from exc
            if rr.isError():
                code = getattr(rr, "exception_code", None)
                raise ReadFailed(
                    "exception", f"{self.key} unit {unit_id}: Modbus exception {code}", code
                )
            if table.is_bits:
                return list(rr.bits[:count])
            if len(rr.registers) != count:
                raise ReadFailed(
                    "garbage",
                    f"{self.key} unit {unit_id}: asked {count} registers, got {len(rr.registers)}",
                )
            return list(rr.registers)

    def close(self) -> None:
        """Drop the connection; the next read reconnects."""
        self.client.close()
