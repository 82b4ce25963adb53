"""Migrated databases for tests: Alembic runs once per session, and each test gets a copy.

At its first use in a session (in each pytest-xdist worker), Alembic migrates an empty database to
head, and prepare_database mirrors the demo site into a second one. A test then gets a copy: a file
copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL. A copy holds what Alembic and
prepare_database leave behind, so a test sees the database it would have seen had it migrated its
own. Running the migrations from empty is the subject of tests/test_migrations.py and of the tests
marked `migrations`, which do it themselves.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import psycopg

from config.settings import Settings
from config.site import SiteConfig

#: "migrated": the schema at head, nothing in it. "demo": that, holding the demo site's assets,
#: locations and contractors (what prepare_database makes for the demo site).
Kind = Literal["migrated", "demo"]


def _plain(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def _sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names; None for another database or an in-memory one."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


class SqliteTemplates:
    """The session's migrated SQLite files, made at first use, and copies of them."""

    def __init__(
        self, folder: Path, site: Callable[[], SiteConfig], upgrade: Callable[[str], None]
    ):
        self.folder = folder
        self.site = site  # the demo site, asked for only when the "demo" template is made
        self.upgrade = upgrade  # Alembic itself, never the copying stand-in of tests/conftest.py
        self.made: dict[Kind, Path] = {}

    def path(self, kind: Kind) -> Path:
        """The template file of that kind, made now if this is its first use."""
        if kind not in self.made:
            path = self.folder / f"{kind}.db"
            url = f"sqlite:///{path}"
            try:
                if kind == "migrated":
                    self.upgrade(url)
                else:
                    from plantroom.app import prepare_database

                    shutil.copyfile(self.path("migrated"), path)
                    settings = Settings(  # type: ignore[call-arg]
                        data_dir=self.folder, database_url=url, _env_file=None
                    )
                    prepare_database(settings, self.site()).dispose()
                # Everything into the main file, so that copying that file copies the database.
                with sqlite3.connect(path) as conn:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.close()
            except BaseException:
                for leftover in self.folder.glob(f"{kind}.db*"):
                    leftover.unlink()
                raise
            self.made[kind] = path
        return self.made[kind]

    def copy(self, kind: Kind, url: str) -> None:
        """Make the SQLite file that url names a copy of the template of that kind."""
        dest = _sqlite_path(url)
        if dest is None:
            raise ValueError(f"not a SQLite file: {url}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(kind), dest)

    def seed(self, url: str) -> None:
        """Before code under test migrates url: when it names a SQLite file that is missing or
        empty, make that file a copy of the migrated template (Alembic then finds it at head)."""
        path = _sqlite_path(url)
        if path is not None and (not path.exists() or path.stat().st_size == 0):
            self.copy("migrated", url)


class PostgresTemplates:
    """The session's migrated PostgreSQL databases, made at first use, and copies of them.

    Their names are unique to the session and the xdist worker, so concurrent test runs against one
    server, and the workers of one run, never share (or race to create) a template.
    """

    def __init__(
        self,
        admin_url: str,
        folder: Path,
        site: Callable[[], SiteConfig],
        upgrade: Callable[[str], None],
    ):
        self.admin_url = admin_url
        self.folder = folder
        self.site = site
        self.upgrade = upgrade
        self.prefix = "plantroom_tpl_" + secrets.token_hex(4)
        self.made: dict[Kind, str] = {}
        #: The next copy of each kind, being made in a daemon thread: its name, or what went wrong.
        self.next: dict[Kind, tuple[threading.Thread, list[str | BaseException]]] = {}

    def _url(self, name: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def _execute(self, sql: str) -> None:
        with psycopg.connect(_plain(self.admin_url), autocommit=True) as conn:
            conn.execute(sql)

    def _create(self, name: str, template: str | None = None) -> None:
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        for attempt in range(50):
            try:
                self._execute(sql)
                return
            except psycopg.errors.ObjectInUse:
                # "source database is being accessed by other users": a connection to the
                # template (say, autovacuum's) that has not closed yet. PostgreSQL itself waits
                # 5 s for it; this waits up to 10 s more.
                if attempt == 49:
                    raise
                time.sleep(0.2)

    def name(self, kind: Kind) -> str:
        """The template database of that kind, made now if this is its first use."""
        if kind not in self.made:
            name = f"{self.prefix}_{kind}"
            template = self.name("migrated") if kind == "demo" else None
            self._create(name, template=template)
            try:
                if kind == "migrated":
                    self.upgrade(self._url(name))
                else:
                    from plantroom.app import prepare_database

                    settings = Settings(
                        data_dir=self.folder, database_url=self._url(name), _env_file=None
                    )  # type: ignore[call-arg]
                    prepare_database(settings, self.site()).dispose()
                # Nobody connects to a template from now on (autovacuum neither), so copying it
                # never finds it in use.
                self._execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            except BaseException:
                self.drop(self._url(name))
                raise
            self.made[kind] = name
        return self.made[kind]

    def copy(self, kind: Kind) -> str:
        """A new database copied from the template of that kind; its URL.

        The copy for the next test is made meanwhile: CREATE DATABASE takes most of a tenth of a
        second, nearly all of it waiting on the server, and a test need not wait for that."""
        name = self._take_next(kind) or self._new_copy(kind)
        box: list[str | BaseException] = []

        def make() -> None:
            try:
                box.append(self._new_copy(kind))
            except BaseException as exc:  # handed to the test that would have used the copy
                box.append(exc)

        thread = threading.Thread(target=make, name="plantroom-pg-copy", daemon=True)
        thread.start()
        self.next[kind] = (thread, box)
        return self._url(name)

    def _new_copy(self, kind: Kind) -> str:
        name = "plantroom_test_" + secrets.token_hex(4)
        self._create(name, template=self.name(kind))
        return name

    def _take_next(self, kind: Kind) -> str | None:
        """The copy made ahead, once it is ready; None when there is none, or making it failed
        (the caller then makes one itself, which raises what is wrong)."""
        if kind not in self.next:
            return None
        thread, box = self.next.pop(kind)
        thread.join()
        return box[0] if box and isinstance(box[0], str) else None

    def empty(self) -> str:
        """A new, empty database; its URL."""
        name = "plantroom_test_" + secrets.token_hex(4)
        self._create(name)
        return self._url(name)

    def drop(self, url: str) -> None:
        """Drop the database at url, closing whatever is still connected to it."""
        name = url.rpartition("/")[2]
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop the copies made ahead and the templates."""
        for kind in list(self.next):
            name = self._take_next(kind)
            if name is not None:
                self.drop(self._url(name))
        for name in self.made.values():
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
