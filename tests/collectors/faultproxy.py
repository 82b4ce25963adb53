"""A Modbus TCP proxy that misbehaves on purpose, per unit id, in front of the real simulator.

Real devices and gateways time out, send garbage, answer with exceptions, reply late and drop
connections; pymodbus's server does none of that on request. The proxy forwards each MBAP frame
to the simulator and then applies the fault set for the frame's unit id, on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field

#: Faults: 'timeout' (never reply), 'garbage' (a reply whose byte count lies), 'exception'
#: (exception 4, device failure), 'busy' (exception 6), 'drop' (close the connection),
#: 'late' (reply after late_by seconds).
FAULTS = ("timeout", "garbage", "exception", "busy", "drop", "late")


@dataclass
class FaultProxy:
    """Listen on 127.0.0.1:port, forward to upstream, misbehave for units in ``faults``."""

    upstream: tuple[str, int]
    faults: dict[int, str] = field(default_factory=dict)
    late_by: float = 1.0
    port: int = 0
    requests: dict[int, int] = field(default_factory=dict)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        """Start listening; self.port is the bound port."""
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_r, up_w = await asyncio.open_connection(*self.upstream)
        try:
            while True:
                head = await reader.readexactly(7)
                tid, _pid, length, unit = struct.unpack(">HHHB", head)
                pdu = await reader.readexactly(length - 1)
                self.requests[unit] = self.requests.get(unit, 0) + 1
                up_w.write(head + pdu)
                await up_w.drain()
                rhead = await up_r.readexactly(7)
                rpdu = await up_r.readexactly(struct.unpack(">HHHB", rhead)[2] - 1)
                fault = self.faults.get(unit)
                if fault == "timeout":
                    continue
                if fault == "drop":
                    break
                if fault in ("exception", "busy"):
                    code = 4 if fault == "exception" else 6
                    rpdu = bytes([pdu[0] | 0x80, code])
                elif fault == "garbage" and len(rpdu) > 2:
                    rpdu = bytes([rpdu[0], rpdu[1] + 4]) + rpdu[2:]  # byte count lies
                frame = struct.pack(">HHHB", tid, 0, len(rpdu) + 1, unit) + rpdu
                if fault == "late":
                    self._later(writer, frame)
                    continue
                writer.write(frame)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            for w in (writer, up_w):
                w.close()
                with contextlib.suppress(Exception):
                    await w.wait_closed()

    def _later(self, writer: asyncio.StreamWriter, frame: bytes) -> None:
        async def send() -> None:
            await asyncio.sleep(self.late_by)
            with contextlib.suppress(Exception):
                writer.write(frame)
                await writer.drain()

        t = asyncio.create_task(send())
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
