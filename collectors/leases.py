"""Leases on devices and assets in the central database, so that each is owned by one collector.

Several collectors (one per building or gateway) write to one InfluxDB and raise work orders in
one database. Two collectors polling one device would store every reading twice, and two alert
engines evaluating one asset would each open a work order for its fault. So at start a collector
claims the ids of the devices it polls and of the assets whose alerts it evaluates, in one
transaction, under its name; the claim is refused, naming both collectors and what they share,
while another collector's lease on any of them is live. The collector renews its lease every
``ttl / 3`` seconds and releases it when it stops cleanly. A collector that died leaves a lease
that expires ``ttl`` seconds after its last renewal; the next claim takes it over, and says so.

A row per (kind, item): its primary key keeps two collectors from holding one item. Claims
are serialised too (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-level advisory lock),
so two collectors starting at the same moment see each other's claim, and one is refused.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import String, delete, select, text, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, Database, UTCDateTime, begin_writing

log = logging.getLogger(__name__)

#: Seconds a lease lives after its last renewal (a collector renews every third of it).
LEASE_TTL = 30.0
#: Claims serialise on this PostgreSQL advisory lock ("plantroom leases").
_ADVISORY_KEY = 0x706C_6C65
KINDS = ("device", "asset")


class CollectorLease(Base):
    """One device or asset held by one running collector."""

    __tablename__ = "collector_leases"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: The collector's name (``plantroom collect --name``, by default its buildings).
    collector: Mapped[str] = mapped_column(String(200))
    #: The running process: host, pid and a random part, so that a second process started under
    #: the same name is still another collector.
    instance: Mapped[str] = mapped_column(String(200), index=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    renewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Holder:
    """A running collector: its name and its process."""

    name: str
    instance: str

    def __str__(self) -> str:
        return f"'{self.name}' ({self.instance})"


def new_holder(name: str) -> Holder:
    """This process as a collector named `name`."""
    return Holder(name, f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:6]}")


class LeaseConflict(Exception):
    """Another live collector holds some of the items a collector claims."""

    def __init__(self, claimant: Holder, held: dict[Holder, list[tuple[str, str]]]):
        self.claimant, self.held = claimant, held
        parts = []
        for other, items in held.items():
            parts.append(
                f"collector {other} already holds {_items(items)}; "
                f"collector {claimant} cannot have them too"
            )
        super().__init__(
            "; ".join(parts) + ". Give each collector its own buildings (--building), or stop "
            "the other one (its lease ends when it stops, or within "
            f"{LEASE_TTL:g} s after it dies)"
        )


def _items(items: list[tuple[str, str]]) -> str:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, item in items:
        by_kind[kind].append(item)
    return " and ".join(
        f"{kind}{'s' if len(ids) > 1 else ''} {', '.join(sorted(ids))}"
        for kind, ids in sorted(by_kind.items(), key=lambda kv: KINDS.index(kv[0]))
    )


@dataclass(frozen=True)
class Takeover:
    """Items whose lease had expired, taken from a collector that is gone."""

    previous: Holder
    items: list[tuple[str, str]]
    expired_at: dt.datetime

    def __str__(self) -> str:
        return (
            f"took over {_items(self.items)} from collector {self.previous}, whose lease "
            f"expired at {self.expired_at:%Y-%m-%d %H:%M:%S} UTC (it stopped renewing: it died "
            "or lost the database)"
        )


def database_now(session: Session) -> dt.datetime | None:
    """The database server's clock on PostgreSQL (the transaction's start), else None."""
    if session.get_bind().dialect.name == "postgresql":
        now: dt.datetime = session.scalar(text("SELECT now()"))
        return now.astimezone(dt.UTC)
    return None


def _serialise(session: Session) -> None:
    """Hold the claim lock until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
    else:
        begin_writing(session)


def claim(
    session: Session,
    *,
    holder: Holder,
    items: Iterable[tuple[str, str]],
    now: dt.datetime,
    ttl: float = LEASE_TTL,
) -> list[Takeover]:
    """Claim (kind, id) items for holder in the session's transaction; raises LeaseConflict
    naming the live holders of any of them. Returns the expired leases it took over."""
    _serialise(session)
    wanted = sorted(set(items))
    keys = tuple_(CollectorLease.kind, CollectorLease.item_id)
    rows = {
        (r.kind, r.item_id): r
        for chunk in _chunks(wanted)
        for r in session.scalars(select(CollectorLease).where(keys.in_(chunk)).with_for_update())
    }
    live: dict[Holder, list[tuple[str, str]]] = defaultdict(list)
    expired: dict[tuple[Holder, dt.datetime], list[tuple[str, str]]] = defaultdict(list)
    for key, row in rows.items():
        other = Holder(row.collector, row.instance)
        if other == holder:
            continue
        if row.expires_at > now:
            live[other].append(key)
        else:
            expired[(other, row.expires_at)].append(key)
    if live:
        raise LeaseConflict(holder, dict(live))
    until = now + dt.timedelta(seconds=ttl)
    for kind, item in wanted:
        held = rows.get((kind, item))
        if held is None:
            session.add(
                CollectorLease(
                    kind=kind,
                    item_id=item,
                    collector=holder.name,
                    instance=holder.instance,
                    claimed_at=now,
                    renewed_at=now,
                    expires_at=until,
                )
            )
        else:
            held.collector, held.instance = holder.name, holder.instance
            held.claimed_at, held.renewed_at, held.expires_at = now, now, until
    session.flush()
    return [Takeover(h, sorted(keys_), at) for (h, at), keys_ in expired.items()]


def _chunks(items: list[tuple[str, str]], size: int = 400) -> Iterable[list[tuple[str, str]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def renew(
    session: Session, *, holder: Holder, now: dt.datetime, ttl: float = LEASE_TTL
) -> set[tuple[str, str]]:
    """Extend holder's leases to now + ttl; returns the (kind, id) items it still holds."""
    session.execute(
        update(CollectorLease)
        .where(CollectorLease.instance == holder.instance)
        .values(renewed_at=now, expires_at=now + dt.timedelta(seconds=ttl))
    )
    return {
        (k, i)
        for k, i in session.execute(
            select(CollectorLease.kind, CollectorLease.item_id).where(
                CollectorLease.instance == holder.instance
            )
        )
    }


def release(session: Session, *, holder: Holder) -> int:
    """Give up every lease of holder; returns how many there were."""
    result = session.execute(
        delete(CollectorLease).where(CollectorLease.instance == holder.instance)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def holder_of(session: Session, kind: str, item_id: str) -> tuple[Holder, dt.datetime] | None:
    """Who holds an item, and until when (None: nobody ever did, or it was released)."""
    row = session.get(CollectorLease, (kind, item_id))
    return None if row is None else (Holder(row.collector, row.instance), row.expires_at)


class Lease:
    """One collector's lease on its devices and assets in db: claim, renew, release."""

    def __init__(
        self,
        db: Database,
        *,
        name: str,
        devices: Iterable[str],
        assets: Iterable[str],
        ttl: float = LEASE_TTL,
        clock: Callable[[], float] | None = None,
    ):
        self.db = db
        self.holder = new_holder(name)
        self.items = sorted({("device", d) for d in devices} | {("asset", a) for a in assets})
        self.ttl = ttl
        self.clock = clock

    def _now(self, session: Session) -> dt.datetime:
        """The lease's clock: the one given, else the database server's (PostgreSQL), so that
        collectors on hosts whose clocks disagree still agree on when a lease expires; SQLite
        lives on this host, whose clock it is."""
        if self.clock is not None:
            return dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        return database_now(session) or dt.datetime.now(dt.UTC)

    def claim(self) -> list[Takeover]:
        """Claim every item, retrying once when a concurrent insert won the race; raises
        LeaseConflict."""
        for attempt in range(3):
            try:
                with self.db.session() as s:
                    taken = claim(
                        s, holder=self.holder, items=self.items, now=self._now(s), ttl=self.ttl
                    )
            except IntegrityError:
                if attempt == 2:
                    raise
                continue
            for t in taken:
                log.warning("collector %s %s", self.holder, t)
            return taken
        raise AssertionError("unreachable")

    def renew(self) -> list[tuple[str, str]]:
        """Renew; returns the items lost to another collector (empty while all is well)."""
        with self.db.session() as s:
            held = renew(s, holder=self.holder, now=self._now(s), ttl=self.ttl)
        return [i for i in self.items if i not in held]

    def release(self) -> None:
        """Release every item (at a clean stop)."""
        with self.db.session() as s:
            release(s, holder=self.holder)
