"""The embedded store, and the durable path into it: what the demo keeps when no server is
configured, so a reading stored must come back exactly, once, and survive a killed collector."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from collectors.buffer import DiskBuffer, DurablePublisher, Forwarder
from collectors.readings import Quality, Reading
from collectors.sinks.embedded import EmbeddedStore

T = 1_760_000_000.0
ROOT = Path(__file__).resolve().parents[2]


_VOLTAGE = object()


def reading(i: int, value: object = _VOLTAGE, **kw: object) -> Reading:
    """Meter a-main's voltage, one reading a second (230 + i V unless value is given)."""
    fields: dict[str, object] = {
        "ts": T + i,
        "asset": "a-main",
        "device": "a-main-meter",
        "point": "voltage_l1",
        "value": 230.0 + i if value is _VOLTAGE else value,
        "unit": "V",
        "quality": Quality.good,
    }
    fields.update(kw)
    return Reading(**fields)  # type: ignore[arg-type]


def test_readings_come_back_as_written_oldest_first(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    written = [
        reading(2),
        reading(0),
        reading(1, None, quality=Quality.unavailable),
        reading(3, "RUN", point="state", unit=""),
        reading(4, 7.5, asset="b-pump", device="b-pump-vfd", point="motor_current", unit="A"),
    ]
    store.write(written)
    voltage = store.query(asset="a-main", point="voltage_l1")
    state = store.query(asset="a-main", point="state")
    pump = store.query(asset="b-pump")
    store.close()
    assert voltage == [
        reading(0),
        reading(1, None, quality=Quality.unavailable),
        reading(2),
    ]
    assert state == [reading(3, "RUN", point="state", unit="")]
    assert [(r.point, r.value, r.unit) for r in pump] == [("motor_current", 7.5, "A")]


def test_time_range_and_latest(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    store.write([reading(i) for i in range(10)])
    window = store.query(asset="a-main", point="voltage_l1", start=T + 3, end=T + 6)
    latest = store.latest("a-main", "voltage_l1")
    store.close()
    assert [r.ts for r in window] == [T + 3, T + 4, T + 5]
    assert latest == reading(9)


def test_a_batch_copied_twice_after_a_crash_is_stored_once(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "buffer.sqlite", max_readings=1000)
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    buf.append([reading(i) for i in range(20)])
    upto, n = buf.peek_ids(1000)
    store.copy_from_buffer(buf.path, upto)
    # killed here, before the buffer forgot the batch: the next start copies it again
    store.copy_from_buffer(buf.path, upto)
    count, stored = store.count(), store.query(asset="a-main")
    store.close()
    buf.close()
    assert n == 20
    assert count == 20
    assert stored == [reading(i) for i in range(20)]


def test_copy_in_sql_stores_what_write_stores(tmp_path: Path) -> None:
    batch = [
        reading(0),
        reading(1, "RUN", point="state", unit=""),
        reading(2, 3, point="trips", unit=""),
        reading(3, None, quality=Quality.out_of_range),
    ]
    buf = DiskBuffer(tmp_path / "buffer.sqlite", max_readings=1000)
    buf.append(batch)
    copied = EmbeddedStore(tmp_path / "copied.sqlite")
    copied.copy_from_buffer(buf.path, buf.peek_ids(1000)[0])
    written = EmbeddedStore(tmp_path / "written.sqlite")
    written.write(batch)
    a, b = copied.query(asset="a-main"), written.query(asset="a-main")
    for s in (copied, written):
        s.close()
    buf.close()
    assert a == b == sorted(batch, key=lambda r: r.ts)


def test_a_store_written_by_the_previous_layout_is_migrated_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "readings.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE readings (ts REAL NOT NULL, asset TEXT NOT NULL, device TEXT NOT NULL, "
        "point TEXT NOT NULL, value REAL, text TEXT, unit TEXT NOT NULL, quality TEXT NOT NULL, "
        "measurement TEXT NOT NULL DEFAULT 'readings');"
    )
    old.executemany(
        "INSERT INTO readings VALUES (?,?,?,?,?,?,?,?,'readings')",
        [
            (T + i, "a-main", "a-main-meter", "voltage_l1", 230.0 + i, None, "V", "good")
            for i in range(5)
        ],
    )
    old.commit()
    old.close()
    store = EmbeddedStore(path)
    stored = store.query(asset="a-main", point="voltage_l1")
    store.close()
    assert stored == [reading(i) for i in range(5)]


#: Counter values a REAL column cannot keep: 2**53 + 1 is stored as 2**53, and values beyond
#: SQLite's signed 64 bits (a uint64 register) do not fit an INTEGER either.
BIG_COUNTS = [2**53 + 1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, 0]


def counts(values: list[int | float]) -> list[Reading]:
    """An energy counter (Wh, a uint64 register) reading each value, one a second."""
    return [reading(i, v, point="energy_total", unit="Wh") for i, v in enumerate(values)]


def typed(readings: list[Reading]) -> list[tuple[type, object]]:
    return [(type(r.value), r.value) for r in readings]


def test_integers_come_back_as_exact_ints_and_floats_as_floats(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    written = counts([*BIG_COUNTS, 3.0, 0.5])
    store.write(written)
    stored = store.query(point="energy_total")
    (window,) = store.iter_range(T, T + 100, chunk=100)
    latest = store.latest("a-main", "energy_total")
    store.close()
    expected = typed(written)
    assert expected[-2:] == [(float, 3.0), (float, 0.5)]
    assert typed(stored) == typed(window) == expected
    assert latest is not None and (type(latest.value), latest.value) == (float, 0.5)


def test_copy_from_the_buffer_keeps_integers_exact(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "buffer.sqlite", max_readings=1000)
    batch = [*counts([*BIG_COUNTS, 3.0]), reading(99, "RUN", point="state", unit="")]
    buf.append(batch)
    _, peeked = buf.peek(1000)
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    store.copy_from_buffer(buf.path, buf.peek_ids(1000)[0])
    stored = store.query()
    store.close()
    buf.close()
    assert typed(peeked) == typed(stored) == typed(batch)


def test_a_store_whose_values_were_declared_real_is_migrated_to_keep_integers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readings.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE series (id INTEGER PRIMARY KEY, measurement TEXT NOT NULL, "
        "asset TEXT NOT NULL, point TEXT NOT NULL, device TEXT NOT NULL, unit TEXT NOT NULL, "
        "UNIQUE (measurement, asset, point, device, unit));"
        "CREATE TABLE samples (series INTEGER NOT NULL REFERENCES series (id), "
        "ts REAL NOT NULL, value REAL, text TEXT, quality TEXT NOT NULL, "
        "PRIMARY KEY (series, ts)) WITHOUT ROWID;"
        "INSERT INTO series VALUES (1, 'readings', 'a-main', 'voltage_l1', 'a-main-meter', 'V');"
    )
    old.executemany(
        "INSERT INTO samples VALUES (1, ?, ?, NULL, 'good')", [(T + i, 230.0 + i) for i in range(3)]
    )
    old.commit()
    old.close()
    store = EmbeddedStore(path)
    store.write(counts([2**53 + 1]))
    voltage = store.query(point="voltage_l1")
    energy = store.query(point="energy_total")
    store.close()
    assert voltage == [reading(i) for i in range(3)]
    assert typed(energy) == [(int, 2**53 + 1)]
    again = EmbeddedStore(path)  # opening it again finds nothing left to migrate
    assert again.count() == 4
    again.close()


def test_consumers_see_readings_only_once_they_are_on_disk(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "buffer.sqlite", max_readings=1000)
    forwarder = Forwarder(buf, EmbeddedStore(tmp_path / "readings.sqlite"))
    depth_seen: list[tuple[int, int]] = []

    def consumer(batch: list[Reading]) -> None:
        depth_seen.append((len(batch), buf.depth()))

    async def run() -> int:
        pub = DurablePublisher([forwarder], then=consumer)
        for i in range(30):
            pub.publish([reading(i)])
            if i % 7 == 0:
                await asyncio.sleep(0)
        await pub.close()
        return pub.published

    published = asyncio.run(run())
    forwarder.sink.close()
    buf.close()
    assert published == 30
    assert sum(n for n, _ in depth_seen) == 30
    seen = 0
    for n, depth in depth_seen:  # nothing was forwarded, so the depth only grows
        seen += n
        assert depth >= seen


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from collectors.buffer import DiskBuffer, DurablePublisher, Forwarder
    from collectors.readings import Quality, Reading
    from collectors.sinks.embedded import EmbeddedStore

    async def main():
        data = Path({data!r})
        fwd = Forwarder(DiskBuffer(data / "buffer.sqlite", 1_000_000),
                        EmbeddedStore(data / "readings.sqlite"))
        forwarding = asyncio.create_task(fwd.run())
        pub = DurablePublisher([fwd])
        i = 0
        while True:
            pub.publish([Reading(1.7e9 + i * 0.001, "a", "d", "p", float(i), "V", Quality.good)
                         for i in range(i, i + 50)])
            i += 50
            await asyncio.sleep(0.001)
            # what is published is committed: tell the parent, which may kill us any time
            print(pub.published, flush=True)

    asyncio.run(main())
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.slow
def test_readings_committed_before_a_sigkill_are_all_there_after_restart(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), data=str(tmp_path))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    committed = 0
    for line in child.stdout:
        committed = int(line)
        if committed >= 20_000:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    buf = DiskBuffer(tmp_path / "buffer.sqlite", 1_000_000)
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    forwarder = Forwarder(buf, store)
    assert asyncio.run(forwarder.drain(timeout=30)) is True
    values = [r.value for r in store.query(asset="a")]
    store.close()
    buf.close()
    assert committed >= 20_000
    assert len(values) >= committed  # every acknowledged reading, and any committed since
    assert values == [float(i) for i in range(len(values))]  # in order, none twice, no holes
