"""Draw the tablet app's icons (workorders/web/static/icons/icon-{192,512}.png) in pure Python.

The PNGs are committed; run this only to change them: `python3 scripts/pwa_icons.py`.
The design: the theme's dark blue, full bleed (so it also serves as a maskable icon), with a
white gauge and needle inside the safe zone, and an amber dot for an alert.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "workorders" / "web" / "static" / "icons"
BLUE = (31, 58, 95)
WHITE = (255, 255, 255)
AMBER = (245, 166, 35)
SUPERSAMPLE = 3


def _shade(x: float, y: float) -> tuple[int, int, int]:
    """The colour at (x, y) in the unit square."""
    cx, cy = x - 0.5, y - 0.54
    r = math.hypot(cx, cy)
    angle = math.degrees(math.atan2(-cy, cx))  # 0 right, 90 up
    # The gauge: a thick arc from 200 degrees (lower left) over the top to -20 (lower right).
    on_arc = 0.22 <= r <= 0.29 and (angle >= -20 or angle <= -160)
    # The needle: from the hub towards 50 degrees, up and to the right.
    a = math.radians(50)
    nx, ny = math.cos(a), -math.sin(a)
    t = cx * nx + cy * ny
    off = abs(-cx * ny + cy * nx)
    on_needle = 0 <= t <= 0.24 and off <= 0.022 * (1 - t / 0.3)
    on_hub = r <= 0.045
    if math.hypot(x - 0.72, y - 0.26) <= 0.06:
        return AMBER
    if on_arc or on_needle or on_hub:
        return WHITE
    return BLUE


def draw(size: int) -> bytes:
    """A size x size RGB PNG of the icon."""
    rows = []
    n = SUPERSAMPLE
    for py in range(size):
        row = bytearray(b"\x00")  # filter type: none
        for px in range(size):
            acc = [0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    c = _shade((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size)
                    acc[0] += c[0]
                    acc[1] += c[1]
                    acc[2] += c[2]
            row += bytes(round(v / (n * n)) for v in acc)
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    """Write both icons."""
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(draw(size))


if __name__ == "__main__":
    main()
