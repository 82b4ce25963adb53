"""`plantroom dashboards push`: put Plantroom's dashboards, with the folder and the two data
sources they read, into a Grafana you already run, through its HTTP API (grafana-client).

Everything pushed has a uid of its own, so it never collides with what docker-compose
provisions: the folder ``plantroom-push``, the data sources ``plantroom-push-influx`` and
``plantroom-push-pg``, and the dashboards ``plantroom-push-<board>-<en|zh>``.

"Changed in Grafana since the last push" is read from the dashboard's version history, with
Grafana's documented API only. Each push saves a dashboard with the version message
``plantroom dashboards push sha256:<hash of the JSON pushed>``. Next time, ``GET
/api/dashboards/uid/:uid/versions?limit=1`` gives the newest version: if its message is not
such a mark (a save in Grafana's UI, a restore, another tool), someone changed the dashboard
since the push, and it is reported and left alone unless ``force``. If the mark's hash equals
the hash of what would be pushed now, the dashboard is unchanged and nothing is sent. The save
itself sends the version read (``overwrite: false``), so a change made between the check and
the save is refused by Grafana (412 ``version-mismatch``) and reported the same way.

Data sources are compared field by field with what Grafana returns. Grafana never returns
passwords, so a data source whose visible settings match and whose secret fields are set is
left as it is; ``force`` sends everything again, passwords included.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit

import niquests.exceptions
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config.settings import Settings
from config.site import SiteConfig
from dashboards.build import DataSources, build_all

UID_PREFIX = "plantroom-push"
FOLDER_UID = "plantroom-push"
DEFAULT_FOLDER = "Plantroom"
INFLUX_UID = "plantroom-push-influx"
PG_UID = "plantroom-push-pg"
INFLUX_NAME = "Plantroom InfluxDB (pushed)"
PG_NAME = "Plantroom PostgreSQL (pushed)"
#: The version message of every dashboard save the push makes; the hash follows it.
MARK = "plantroom dashboards push sha256:"
#: Seconds to wait for each answer from Grafana.
TIMEOUT = 10.0

SSLMODES = ("disable", "require", "verify-ca", "verify-full")


class PushError(Exception):
    """The push cannot go on: a usage or connection error, said in one line (exit 2)."""


@dataclass(frozen=True)
class PushDataSources:
    """How the pushed data sources reach InfluxDB and PostgreSQL, as Grafana sees them."""

    influx_url: str = "http://localhost:8086"
    influx_database: str = "plantroom"
    influx_token: str | None = None
    influx_user: str | None = None
    influx_password: str | None = None
    pg_host: str = "localhost:5432"
    pg_database: str = "plantroom"
    pg_user: str = "plantroom_grafana"
    pg_password: str | None = None
    pg_sslmode: str = "disable"

    @classmethod
    def from_environment(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> PushDataSources:
        """The settings from ``environ`` (default: the process environment), defaulting to
        Plantroom's own: PLANTROOM_GRAFANA_INFLUX_{URL,DATABASE,TOKEN,USER,PASSWORD} and
        PLANTROOM_GRAFANA_PG_{HOST,DATABASE,USER,PASSWORD,SSLMODE} (README.md, "Pushing the
        dashboards to a Grafana you already run").
        They describe the servers as Grafana reaches them."""
        environ = os.environ if environ is None else environ
        env = {k: v for k, v in environ.items() if v != ""}
        v2 = settings.influx_v2_url is not None and settings.influx_v1_url is None
        pg_host, pg_database = "localhost:5432", "plantroom"
        try:
            db_url = make_url(settings.sqlalchemy_url())
        except ArgumentError:
            db_url = None
        if db_url is not None and db_url.get_backend_name() == "postgresql":
            pg_host = f"{db_url.host or 'localhost'}:{db_url.port or 5432}"
            pg_database = db_url.database or pg_database
        return cls(
            influx_url=env.get(
                "PLANTROOM_GRAFANA_INFLUX_URL",
                settings.influx_v1_url or settings.influx_v2_url or cls.influx_url,
            ),
            influx_database=env.get(
                "PLANTROOM_GRAFANA_INFLUX_DATABASE",
                settings.influx_bucket if v2 else settings.influx_database,
            ),
            influx_token=env.get(
                "PLANTROOM_GRAFANA_INFLUX_TOKEN", settings.influx_token if v2 else None
            ),
            influx_user=env.get(
                "PLANTROOM_GRAFANA_INFLUX_USER", None if v2 else settings.influx_username
            ),
            influx_password=env.get(
                "PLANTROOM_GRAFANA_INFLUX_PASSWORD", None if v2 else settings.influx_password
            ),
            pg_host=env.get("PLANTROOM_GRAFANA_PG_HOST", pg_host),
            pg_database=env.get("PLANTROOM_GRAFANA_PG_DATABASE", pg_database),
            pg_user=env.get("PLANTROOM_GRAFANA_PG_USER", cls.pg_user),
            pg_password=env.get("PLANTROOM_GRAFANA_PG_PASSWORD", env.get("GRAFANA_DB_PASSWORD")),
            pg_sslmode=env.get("PLANTROOM_GRAFANA_PG_SSLMODE", cls.pg_sslmode),
        )

    def payloads(self) -> list[dict[str, Any]]:
        """The two data sources as Grafana's data source API takes them."""
        if self.pg_sslmode not in SSLMODES:
            raise PushError(
                f"PLANTROOM_GRAFANA_PG_SSLMODE={self.pg_sslmode!r} is not one of "
                f"{', '.join(SSLMODES)}"
            )
        influx: dict[str, Any] = {
            "uid": INFLUX_UID,
            "name": INFLUX_NAME,
            "type": "influxdb",
            "access": "proxy",
            "url": self.influx_url,
            "isDefault": False,
            "jsonData": {"version": "InfluxQL", "dbName": self.influx_database, "httpMode": "POST"},
            "secureJsonData": {},
        }
        if self.influx_token:
            influx["jsonData"]["httpHeaderName1"] = "Authorization"
            influx["secureJsonData"]["httpHeaderValue1"] = f"Token {self.influx_token}"
        elif self.influx_user:
            influx["user"] = self.influx_user
            if self.influx_password:
                influx["secureJsonData"]["password"] = self.influx_password
        pg: dict[str, Any] = {
            "uid": PG_UID,
            "name": PG_NAME,
            "type": "grafana-postgresql-datasource",
            "access": "proxy",
            "url": self.pg_host,
            "user": self.pg_user,
            "isDefault": False,
            "jsonData": {"database": self.pg_database, "sslmode": self.pg_sslmode},
            "secureJsonData": {"password": self.pg_password} if self.pg_password else {},
        }
        return [influx, pg]


def content_hash(dashboard: Mapping[str, Any]) -> str:
    """The sha256 of a dashboard's JSON as pushed (keys sorted; id and version left out)."""
    doc = {k: v for k, v in dashboard.items() if k not in ("id", "version")}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Outcome:
    """What the push did, item by item."""

    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, kind: str, status: str, name: str, note: str = "") -> None:
        """Record one item: its kind, what happened, its name and an optional note."""
        self.lines.append(f"{kind:<10} {status:<11} {name}{': ' + note if note else ''}")
        if kind == "dashboard":
            self.counts[status] = self.counts.get(status, 0) + 1


def push_command(
    site: SiteConfig,
    *,
    url: str,
    folder: str,
    force: bool,
    token: str | None,
    datasources: PushDataSources,
    app_url: str,
    out: TextIO,
    err: TextIO,
) -> int:
    """Build every board for the pushed data sources and push them with `push`; the exit code."""
    dashboards = build_all(
        site,
        datasources=DataSources(influx=INFLUX_UID, sql=PG_UID),
        uid_prefix=UID_PREFIX,
        app_url=app_url,
    )
    return push(
        dashboards,
        url=url,
        folder=folder,
        force=force,
        token=token,
        datasources=datasources,
        out=out,
        err=err,
    )


def push(
    dashboards: Mapping[str, Mapping[str, Any]],
    *,
    url: str,
    folder: str,
    force: bool,
    token: str | None,
    datasources: PushDataSources,
    out: TextIO,
    err: TextIO,
) -> int:
    """Push the folder, the data sources and ``dashboards`` ({file: JSON}) to the Grafana at
    ``url``: 0 done, 1 dashboards changed in Grafana left alone, 2 usage or connection error."""
    outcome = Outcome()
    try:
        payloads = datasources.payloads()
        api = _connect(url, token, folder)
        try:
            try:
                health = _request(api, "check Grafana's health", lambda: api.client.GET("/health"))
            except GrafanaClientError as exc:  # 404, 405...: not Grafana's API at this URL
                raise PushError(
                    f"{url} does not answer like Grafana's HTTP API (/api/health: "
                    f"{exc.status_code} {_message(exc)}); is the URL Grafana's root, with its "
                    "sub-path if it has one?"
                ) from None
            if not isinstance(health, dict) or "database" not in health:
                raise PushError(f"{url} does not answer like Grafana's HTTP API (/api/health)")
            print(f"Grafana {health.get('version', '(version unknown)')} at {url}", file=out)
            _push_folder(api, folder, outcome)
            for payload in payloads:
                _push_datasource(api, payload, force, outcome)
            for doc in dashboards.values():
                _push_dashboard(api, dict(doc), force, outcome)
        finally:
            api.client.s.close()
    except PushError as exc:
        for line in outcome.lines:
            print(line, file=out)
        print(f"plantroom dashboards push: {exc}", file=err)
        return 2
    except GrafanaClientError as exc:  # an answer no step expected: say it, do not crash
        for line in outcome.lines:
            print(line, file=out)
        print(
            f"plantroom dashboards push: Grafana answered {exc.status_code}: {_message(exc)}",
            file=err,
        )
        return 2
    for line in outcome.lines:
        print(line, file=out)
    for line in outcome.warnings:
        print(line, file=err)
    c = outcome.counts
    print(
        f"dashboards: {c.get('created', 0)} created, "
        f"{c.get('updated', 0) + c.get('overwritten', 0)} updated, "
        f"{c.get('unchanged', 0)} unchanged, {c.get('conflict', 0)} changed in Grafana",
        file=out,
    )
    if outcome.conflicts:
        print(
            f"Left alone, changed in Grafana since the last push: {', '.join(outcome.conflicts)}. "
            "Push with --force to overwrite them.",
            file=err,
        )
        return 1
    return 0


def _connect(url: str, token: str | None, folder: str) -> GrafanaApi:
    if not token:
        raise PushError(
            "GRAFANA_TOKEN is not set: create a service account token (role Admin) in Grafana "
            "and export it as GRAFANA_TOKEN"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PushError(f"--url {url!r} is not an http:// or https:// address of Grafana")
    if not folder.strip():
        raise PushError("--folder must not be empty")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise PushError(f"--url {url!r} has an invalid port") from None
    return GrafanaApi.from_url(url.rstrip("/"), credential=token, timeout=TIMEOUT)


def _request(api: GrafanaApi, what: str, call: Any) -> Any:
    """Run one API call; a failure that stops the push becomes a PushError."""
    try:
        return call()
    except GrafanaUnauthorizedError:
        raise PushError(
            f"Grafana refused the token in GRAFANA_TOKEN (401 Unauthorized) to {what}"
        ) from None
    except GrafanaTimeoutError:
        raise PushError(f"Grafana did not answer within {TIMEOUT:g} s to {what}") from None
    except GrafanaClientError as exc:
        if exc.status_code == 403:
            raise PushError(
                f"the token's role may not {what} (403 Access denied: {_message(exc)}); "
                "the push needs a token with the Admin role"
            ) from None
        raise
    except GrafanaException as exc:
        raise PushError(f"Grafana failed to {what}: {exc.message}") from None
    except ValueError:  # a body that is not JSON: something else answers at that address
        raise PushError(f"{api.url} does not answer like Grafana's HTTP API") from None
    except niquests.exceptions.RequestException as exc:
        raise PushError(f"cannot reach Grafana at {api.url} ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    """The operating system's words for a failed connection, without the pool's wrapping."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text) or re.search(
        r"(Failed to resolve [^(]+?)(?: \(|$)", text
    )
    if found:
        return found.group(1).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _message(exc: GrafanaException) -> str:
    body = exc.response
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(exc.message)


def _get_or_none(api: GrafanaApi, what: str, call: Any) -> Any:
    """A GET that may answer 404 (None)."""
    try:
        return _request(api, what, call)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise PushError(f"Grafana answered {exc.status_code} to {what}: {_message(exc)}") from None


def _write(api: GrafanaApi, what: str, call: Any) -> Any:
    """A create or update; any refusal stops the push."""
    try:
        return _request(api, what, call)
    except GrafanaClientError as exc:
        raise PushError(f"Grafana answered {exc.status_code} to {what}: {_message(exc)}") from None


def _push_folder(api: GrafanaApi, title: str, outcome: Outcome) -> None:
    name = f"{title} ({FOLDER_UID})"
    found = _get_or_none(api, "read folders", lambda: api.folder.get_folder(FOLDER_UID))
    if found is None:
        _write(api, "create folders", lambda: api.folder.create_folder(title, uid=FOLDER_UID))
        outcome.add("folder", "created", name)
    elif found.get("title") != title:
        _write(
            api,
            "update folders",
            lambda: api.folder.update_folder(FOLDER_UID, title=title, version=found["version"]),
        )
        outcome.add("folder", "updated", name, f"renamed from {found.get('title')!r}")
    else:
        outcome.add("folder", "unchanged", name)


def _datasource_matches(found: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    for key, value in payload.items():
        if key == "secureJsonData":
            fields = found.get("secureJsonFields") or {}
            if not all(fields.get(k) for k in value):
                return False
        elif key == "jsonData":
            have = found.get("jsonData") or {}
            if any(have.get(k) != v for k, v in value.items()):
                return False
        elif found.get(key) != value:
            return False
    # Grafana returns "" for a user that was never set.
    return "user" in payload or not found.get("user")


def _push_datasource(
    api: GrafanaApi, payload: dict[str, Any], force: bool, outcome: Outcome
) -> None:
    uid = payload["uid"]
    name = f"{payload['name']} ({uid})"
    found = _get_or_none(
        api, "read data sources", lambda: api.datasource.get_datasource_by_uid(uid)
    )
    if found is None:
        _write(api, "create data sources", lambda: api.datasource.create_datasource(payload))
        outcome.add("datasource", "created", name)
    elif force or not _datasource_matches(found, payload):
        body = {**payload, "user": payload.get("user", "")}
        _write(
            api,
            "update data sources",
            lambda: api.datasource.update_datasource_by_uid(uid, body),
        )
        outcome.add("datasource", "updated", name)
    else:
        outcome.add("datasource", "unchanged", name)
    if payload["uid"] == PG_UID and "password" not in payload["secureJsonData"]:
        outcome.warnings.append(
            f"warning: {name} has no password to send: PLANTROOM_GRAFANA_PG_PASSWORD is not set"
        )


def _push_dashboard(api: GrafanaApi, doc: dict[str, Any], force: bool, outcome: Outcome) -> None:
    uid = str(doc.get("uid") or "")
    if not uid.startswith(UID_PREFIX + "-"):
        raise PushError(f"dashboard {doc.get('title')!r} has uid {uid!r}, not {UID_PREFIX}-*")
    doc.pop("id", None)
    doc.pop("version", None)
    digest = content_hash(doc)
    name = f"{doc.get('title')} ({uid})"
    found = _get_or_none(api, "read dashboards", lambda: api.dashboard.get_dashboard(uid))
    if found is None:
        status = _save(api, doc, digest, version=None, overwrite=False)
        _record(outcome, status, name, "created")
        return
    meta = found.get("meta") or {}
    version = meta.get("version", found["dashboard"].get("version"))
    latest = _latest_version(api, uid)
    mark = str((latest or {}).get("message") or "")
    ours = (
        latest is not None
        and latest.get("version") == version
        and mark.startswith(MARK)
        and meta.get("folderUid") == FOLDER_UID
    )
    if ours and mark == MARK + digest:
        outcome.add("dashboard", "unchanged", name)
        return
    if ours:
        status = _save(api, doc, digest, version=version, overwrite=False)
        _record(outcome, status, name, "updated")
        return
    if force:
        # The version read, not Grafana's `overwrite`: overwrite would also let the save take
        # over another dashboard of the same title in the folder, uid and all.
        status = _save(api, doc, digest, version=version, overwrite=False)
        if status == "saved":
            outcome.add("dashboard", "overwritten", name, _who(latest, meta))
        else:
            _record(outcome, status, name, "overwritten")
        return
    why = _who(latest, meta)
    now = found["dashboard"].get("title")
    if now != doc.get("title"):
        why += f", now titled {now!r}"
    _conflict(outcome, name, why)


def _latest_version(api: GrafanaApi, uid: str) -> dict[str, Any] | None:
    """The newest entry of a dashboard's version history, or None."""
    # grafana-client's get_dashboard_versions puts limit in a GET body, which Grafana ignores.
    answer = _get_or_none(
        api,
        "read dashboard versions",
        lambda: api.client.GET(f"/dashboards/uid/{uid}/versions", params={"limit": 1}),
    )
    # Grafana 11.6 answers {"continueToken", "versions"}; earlier releases a bare list.
    rows = answer.get("versions") if isinstance(answer, dict) else answer
    if not rows:
        return None
    newest: dict[str, Any] = max(rows, key=lambda row: int(row.get("version") or 0))
    return newest


def _who(latest: Mapping[str, Any] | None, meta: Mapping[str, Any]) -> str:
    if meta.get("folderUid") != FOLDER_UID and str((latest or {}).get("message")).startswith(MARK):
        return f"moved to folder {meta.get('folderTitle') or meta.get('folderUid')!r}"
    if latest is None:
        return "no version history"
    by = latest.get("createdBy") or "someone"
    return f"version {latest.get('version')} saved by {by} at {latest.get('created')}"


def _save(
    api: GrafanaApi, doc: dict[str, Any], digest: str, *, version: int | None, overwrite: bool
) -> str:
    """Save one dashboard in the push's folder: "saved", "conflict" when Grafana refuses it as
    changed by someone else, or "name-exists" when another dashboard in the folder has its
    title (both 412)."""
    body = {
        "dashboard": doc if version is None else {**doc, "version": version},
        "folderUid": FOLDER_UID,
        "message": MARK + digest,
        "overwrite": overwrite,
    }
    try:
        _request(api, "save dashboards", lambda: api.dashboard.update_dashboard(body))
    except GrafanaClientError as exc:
        if exc.status_code == 412:
            body = exc.response if isinstance(exc.response, dict) else {}
            return "name-exists" if body.get("status") == "name-exists" else "conflict"
        raise PushError(
            f"Grafana answered {exc.status_code} to saving {doc.get('title')!r}: {_message(exc)}"
        ) from None
    return "saved"


def _record(outcome: Outcome, status: str, name: str, done: str) -> None:
    if status == "name-exists":
        _conflict(outcome, name, "another dashboard in the folder has this title: rename it")
    elif status == "conflict":
        _conflict(outcome, name, "saved in Grafana while the push ran")
    else:
        outcome.add("dashboard", done, name)


def _conflict(outcome: Outcome, name: str, why: str) -> None:
    outcome.add("dashboard", "conflict", name, f"changed in Grafana since the last push ({why})")
    outcome.conflicts.append(name)
