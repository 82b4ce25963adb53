"""Engine, declarative Base and the request-scoped session (commit on success, else roll back)."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, get_type_hints

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

#: The largest id a row can have: ids are 32-bit integers on PostgreSQL.
MAX_ID = 2_147_483_647

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """Now, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


#: Request threads (AnyIO's default limiter) plus the collector's and schedulers' own.
POOL_SIZE = 40


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL and a busy timeout so the collector and the API can share it."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection per request thread (AnyIO's pool runs 40): SQLite connections are cheap,
        # and a request must never wait for a pooled connection while others wait for the lock.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=POOL_SIZE,
            max_overflow=10,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=POOL_SIZE - 10)


def begin_writing(session: Session) -> None:
    """Start the session's transaction as a writer, before anything else runs in it.

    On SQLite this is BEGIN IMMEDIATE: the write lock at once (waiting out the busy timeout), and
    a real transaction around what follows. Without it the sqlite3 driver begins a transaction
    only at the first INSERT, UPDATE or DELETE, so a SAVEPOINT that comes first opens a
    transaction of its own, whose RELEASE commits: a later rollback would not undo it. Other
    databases begin as usual.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency: one session per request, committed when the handler succeeds.

    It is async on purpose: the commit then runs on the event loop, in the same breath as the
    handler's return, instead of waiting for a free worker thread. A sync dependency's exit
    needs a thread from AnyIO's pool of 40; with 40 requests queued on SQLite's write lock
    holding every thread, the lock holder could not get one to commit, and all of them stalled
    until SQLite's busy timeout. A commit is one short statement, so the loop barely notices.
    """
    db: Database = request.app.state.db
    with db.sessions() as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


#: scope="function": the commit runs before the response is sent, so a client never sees success
#: for a change that then fails to commit (FastAPI's default "request" scope commits afterwards).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class CommittingRoute(APIRoute):
    """A route whose sync endpoint commits its request session in its own worker thread.

    FastAPI validates a sync endpoint's return value in a second worker thread before the
    session dependency's exit commits. On SQLite the endpoint's writes hold the database's write
    lock across that hop: when every worker thread is taken by requests queued on the same lock,
    the holder cannot get a thread to finish, and everything waits out SQLite's busy timeout
    (a 50-client conflict test saw 40 answers of 500 after 30 s). Committing at the end of the
    endpoint, in the thread that did the writes, releases the lock before any hop. The
    dependency's own commit then finds nothing to do.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _committing(endpoint), **kwargs)


def _committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        return endpoint
    try:
        hints = get_type_hints(endpoint, include_extras=True)
    except (NameError, TypeError):
        return endpoint
    names = [n for n, h in hints.items() if h == SessionDep]
    if not names:
        return endpoint
    name = names[0]

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        kwargs[name].commit()
        return result

    return run
