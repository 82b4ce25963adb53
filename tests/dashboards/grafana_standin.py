"""A stand-in for Grafana's HTTP API, for the tests of `plantroom dashboards push`.

Grafana itself cannot be installed or run here, so this small real HTTP server (stdlib
``ThreadingHTTPServer`` on a free port) answers the part of Grafana 11.6's HTTP API the push
uses, with the routes, payloads and status codes of Grafana's documentation:

- ``GET /api/health``, unauthenticated
  (https://grafana.com/docs/grafana/v11.6/developers/http_api/other/#health-api);
- folders: ``GET /api/folders``, ``POST /api/folders``, ``GET|PUT /api/folders/:uid``, 409 for a
  uid that exists, 412 ``version-mismatch`` on a PUT with a stale version and no ``overwrite``
  (https://grafana.com/docs/grafana/v11.6/developers/http_api/folder/);
- data sources: ``GET|POST /api/datasources``, ``GET|PUT /api/datasources/uid/:uid``; secrets go
  in ``secureJsonData``, are never returned, and show up as ``secureJsonFields``; 409 for a
  name or uid that exists
  (https://grafana.com/docs/grafana/v11.6/developers/http_api/data_source/);
- dashboards: ``POST /api/dashboards/db`` (``folderUid``, ``message``, ``overwrite``; 412
  ``version-mismatch`` when the dashboard exists, its ``version`` differs from the stored one
  and ``overwrite`` is false, as Grafana's dashboard store decides), ``GET
  /api/dashboards/uid/:uid`` with ``meta.version`` and ``meta.folderUid``
  (https://grafana.com/docs/grafana/v11.6/developers/http_api/dashboard/), and ``GET
  /api/dashboards/uid/:uid/versions`` newest first, in the 11.6 shape ``{"continueToken": "",
  "versions": [...]}`` (the docs page still shows a bare list; grafana/grafana#104556);
- ``GET /api/search`` (``type``, ``folderUIDs``, ``dashboardUIDs``, ``query``)
  (https://grafana.com/docs/grafana/v11.6/developers/http_api/folder_dashboard_search/).

Requests authenticate with ``Authorization: Bearer <token>``: no token or an unknown one is 401;
a token whose role lacks the permission is 403, with the basic roles of Grafana OSS (Viewer
reads folders and dashboards; Editor also writes them; only Admin reads or writes data sources:
https://grafana.com/docs/grafana/v11.6/administration/roles-and-permissions/access-control/rbac-fixed-basic-role-definitions/).

``StandinGrafana.save_as_user`` changes a dashboard the way a user's save in Grafana's UI does:
it GETs the dashboard and POSTs it back to ``/api/dashboards/db`` with its version, an empty
message and ``overwrite: false``, over HTTP like any client.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx

Role = Literal["Viewer", "Editor", "Admin"]
_RANK = {"Viewer": 0, "Editor": 1, "Admin": 2}
VERSION = "11.6.0"
#: What Grafana shows for the settings a data source was created without.
_DS_DEFAULTS: dict[str, Any] = {
    "access": "proxy",
    "url": "",
    "user": "",
    "database": "",
    "basicAuth": False,
    "basicAuthUser": "",
    "withCredentials": False,
    "isDefault": False,
    "jsonData": {},
}


class ApiError(Exception):
    """An error answer: status and JSON body."""

    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.body = {"message": message, **extra}


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Token:
    """An API token (a service account's) with its role and the login Grafana records."""

    role: Role
    login: str


@dataclass
class StandinGrafana:
    """The state behind the stand-in server, and helpers tests use."""

    url: str = ""
    tokens: dict[str, Token] = field(default_factory=dict)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: secureJsonData as stored (Grafana encrypts it and never returns it).
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    #: uid -> {"dashboard": JSON, "folderUid": ..., "created": ..., "createdBy": ...}
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: uid -> versions, oldest first, each with its "data".
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: (method, path) of every request, in order.
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 0

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ---- helpers for tests -------------------------------------------------------------------

    def save_as_user(
        self,
        uid: str,
        change: Callable[[dict[str, Any]], None],
        *,
        token: str,
        message: str = "",
        folder_uid: str | None = None,
    ) -> dict[str, Any]:
        """Change a dashboard as a user saving it in Grafana's UI: GET it, apply ``change`` to
        its JSON, POST it back with its version and ``overwrite: false`` (into ``folder_uid``
        when given: a move)."""
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=self.url, headers=headers) as client:
            got = client.get(f"/api/dashboards/uid/{uid}")
            got.raise_for_status()
            body = got.json()
            dashboard = body["dashboard"]
            change(dashboard)
            saved = client.post(
                "/api/dashboards/db",
                json={
                    "dashboard": dashboard,
                    "folderUid": folder_uid or body["meta"]["folderUid"],
                    "message": message,
                    "overwrite": False,
                },
            )
            saved.raise_for_status()
            result: dict[str, Any] = saved.json()
            return result

    def dashboard(self, uid: str) -> dict[str, Any]:
        """The stored JSON of a dashboard."""
        with self.lock:
            return copy.deepcopy(self.dashboards[uid]["dashboard"])

    # ---- the API -----------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], auth: str | None, body: Any
    ) -> tuple[int, Any]:
        """Answer one request: (status, JSON body)."""
        with self.lock:
            self.requests.append((method, path))
            if (method, path) == ("GET", "/api/health"):
                return 200, {"commit": "standin", "database": "ok", "version": VERSION}
            token = self._authenticate(auth)
            for pattern, route in self._routes():
                m = re.fullmatch(pattern, f"{method} {path}")
                if m:
                    return route(token, query, body, *m.groups())
            raise ApiError(404, "Not found")

    def _routes(self) -> list[tuple[str, Callable[..., tuple[int, Any]]]]:
        return [
            (r"GET /api/folders", self._list_folders),
            (r"POST /api/folders", self._create_folder),
            (r"GET /api/folders/([^/]+)", self._get_folder),
            (r"PUT /api/folders/([^/]+)", self._update_folder),
            (r"GET /api/datasources", self._list_datasources),
            (r"POST /api/datasources", self._create_datasource),
            (r"GET /api/datasources/uid/([^/]+)", self._get_datasource),
            (r"PUT /api/datasources/uid/([^/]+)", self._update_datasource),
            (r"POST /api/dashboards/db", self._save_dashboard),
            (r"GET /api/dashboards/uid/([^/]+)", self._get_dashboard),
            (r"GET /api/dashboards/uid/([^/]+)/versions", self._list_versions),
            (r"GET /api/search", self._search),
        ]

    def _authenticate(self, auth: str | None) -> Token:
        if not auth:
            raise ApiError(401, "Unauthorized")
        scheme, _, value = auth.partition(" ")
        token = self.tokens.get(value) if scheme == "Bearer" else None
        if token is None:
            raise ApiError(401, "Invalid API key", messageId="api-key.invalid", statusCode=401)
        return token

    @staticmethod
    def _require(token: Token, role: Role, action: str) -> None:
        if _RANK[token.role] < _RANK[role]:
            raise ApiError(
                403,
                "You'll need additional permissions to perform this action. "
                f"Permissions needed: {action}",
                title="Access denied",
            )

    # folders

    def _folder_view(self, folder: dict[str, Any]) -> dict[str, Any]:
        return {
            **folder,
            "url": f"/dashboards/f/{folder['uid']}/{_slug(folder['title'])}",
            "hasAcl": False,
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
        }

    def _list_folders(
        self, token: Token, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        self._require(token, "Viewer", "folders:read")
        return 200, [
            {"id": f["id"], "uid": f["uid"], "title": f["title"]} for f in self.folders.values()
        ]

    def _create_folder(
        self, token: Token, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        self._require(token, "Editor", "folders:create")
        title = (body or {}).get("title")
        if not title:
            raise ApiError(400, "folder title cannot be empty")
        uid = body.get("uid") or f"f{self._next_id + 1:08d}"
        if len(uid) > 40:
            raise ApiError(400, "uid too long, max 40 characters")
        if uid in self.folders or uid in self.dashboards:
            raise ApiError(409, "a folder or dashboard with the same uid already exists")
        now = _now()
        folder = {
            "id": self.new_id(),
            "uid": uid,
            "title": title,
            "createdBy": token.login,
            "created": now,
            "updatedBy": token.login,
            "updated": now,
            "version": 1,
        }
        self.folders[uid] = folder
        return 200, self._folder_view(folder)

    def _get_folder(
        self, token: Token, query: dict[str, list[str]], body: Any, uid: str
    ) -> tuple[int, Any]:
        self._require(token, "Viewer", "folders:read")
        if uid not in self.folders:
            raise ApiError(404, "folder not found")
        return 200, self._folder_view(self.folders[uid])

    def _update_folder(
        self, token: Token, query: dict[str, list[str]], body: Any, uid: str
    ) -> tuple[int, Any]:
        self._require(token, "Editor", "folders:write")
        folder = self.folders.get(uid)
        if folder is None:
            raise ApiError(404, "folder not found")
        body = body or {}
        if not body.get("overwrite") and body.get("version") != folder["version"]:
            raise ApiError(
                412, "The folder has been changed by someone else", status="version-mismatch"
            )
        if body.get("title"):
            folder["title"] = body["title"]
        folder["version"] += 1
        folder["updated"] = _now()
        folder["updatedBy"] = token.login
        return 200, self._folder_view(folder)

    # data sources

    def _ds_store(self, ds: dict[str, Any], body: dict[str, Any]) -> None:
        for key, default in _DS_DEFAULTS.items():
            value = body.get(key)
            ds[key] = copy.deepcopy(default if value is None else value)
        ds["name"], ds["type"] = body["name"], body["type"]
        kept = self.secrets.setdefault(ds["uid"], {})
        kept.update(body.get("secureJsonData") or {})
        ds["secureJsonFields"] = {k: True for k in kept}

    def _ds_name_taken(self, name: str, uid: str) -> bool:
        return any(d["name"] == name and d["uid"] != uid for d in self.datasources.values())

    def _list_datasources(
        self, token: Token, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        self._require(token, "Admin", "datasources:read")
        return 200, [copy.deepcopy(d) for d in self.datasources.values()]

    def _create_datasource(
        self, token: Token, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        self._require(token, "Admin", "datasources:create")
        body = body or {}
        if not body.get("name") or not body.get("type"):
            raise ApiError(400, "bad request data")
        uid = body.get("uid") or f"ds{self._next_id + 1:08d}"
        if uid in self.datasources:
            raise ApiError(409, "data source with the same uid already exists")
        if self._ds_name_taken(body["name"], uid):
            raise ApiError(409, "data source with the same name already exists")
        ds: dict[str, Any] = {"id": self.new_id(), "uid": uid, "orgId": 1, "typeLogoUrl": ""}
        self._ds_store(ds, body)
        ds.update(version=1, readOnly=False)
        self.datasources[uid] = ds
        return 200, {
            "datasource": copy.deepcopy(ds),
            "id": ds["id"],
            "message": "Datasource added",
            "name": ds["name"],
        }

    def _get_datasource(
        self, token: Token, query: dict[str, list[str]], body: Any, uid: str
    ) -> tuple[int, Any]:
        self._require(token, "Admin", "datasources:read")
        if uid not in self.datasources:
            raise ApiError(404, "Data source not found")
        return 200, copy.deepcopy(self.datasources[uid])

    def _update_datasource(
        self, token: Token, query: dict[str, list[str]], body: Any, uid: str
    ) -> tuple[int, Any]:
        self._require(token, "Admin", "datasources:write")
        ds = self.datasources.get(uid)
        if ds is None:
            raise ApiError(404, "Data source not found")
        if ds["readOnly"]:
            raise ApiError(403, "Cannot update read-only data source")
        body = body or {}
        if not body.get("name") or not body.get("type"):
            raise ApiError(400, "bad request data")
        if self._ds_name_taken(body["name"], uid):
            raise ApiError(409, "data source with the same name already exists")
        self._ds_store(ds, body)
        ds["version"] += 1
        return 200, {
            "datasource": copy.deepcopy(ds),
            "id": ds["id"],
            "message": "Datasource updated",
            "name": ds["name"],
        }

    # dashboards

    def _save_dashboard(
        self, token: Token, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        body = body or {}
        dash = copy.deepcopy(body.get("dashboard") or {})
        if not dash.get("title"):
            raise ApiError(400, "Dashboard title cannot be empty")
        folder_uid = body.get("folderUid") or ""
        if folder_uid and folder_uid not in self.folders:
            raise ApiError(400, "folder not found")
        uid = dash.get("uid") or f"d{self._next_id + 1:08d}"
        if len(uid) > 40:
            raise ApiError(400, "uid too long, max 40 characters")
        existing = self.dashboards.get(uid)
        self._require(token, "Editor", "dashboards:write" if existing else "dashboards:create")
        if dash.get("id") and (existing is None or existing["dashboard"]["id"] != dash["id"]):
            raise ApiError(404, "Dashboard not found")
        same_title = next(
            (
                other_uid
                for other_uid, other in self.dashboards.items()
                if other_uid != uid
                and other["folderUid"] == folder_uid
                and str(other["dashboard"].get("title", "")).lower() == dash["title"].lower()
            ),
            None,
        )
        if same_title is not None:
            if not body.get("overwrite"):  # Grafana: a title is unique within a folder
                raise ApiError(
                    412,
                    "A dashboard with the same name in the folder already exists",
                    status="name-exists",
                )
            # Grafana's overwrite takes the other dashboard over, uid and all.
            uid = same_title
            existing = self.dashboards.get(uid)
            dash.update(id=existing["dashboard"]["id"], version=existing["dashboard"]["version"])
        stale = existing is not None and dash.get("version", 0) != existing["dashboard"]["version"]
        if stale and not body.get("overwrite"):  # Grafana: someone else wrote in between
            raise ApiError(
                412, "The dashboard has been changed by someone else", status="version-mismatch"
            )
        now = _now()
        if existing is None:
            dash.update(id=self.new_id(), uid=uid, version=1)
            existing = {"created": now, "createdBy": token.login}
            parent = 0
        else:
            parent = existing["dashboard"]["version"]
            dash.update(id=existing["dashboard"]["id"], uid=uid, version=parent + 1)
        existing.update(dashboard=dash, folderUid=folder_uid, updated=now, updatedBy=token.login)
        self.dashboards[uid] = existing
        self.versions.setdefault(uid, []).append(
            {
                "id": self.new_id(),
                "dashboardId": dash["id"],
                "uid": uid,
                "parentVersion": parent,
                "restoredFrom": 0,
                "version": dash["version"],
                "created": now,
                "createdBy": token.login,
                "message": body.get("message") or "",
                "data": copy.deepcopy(dash),
            }
        )
        slug = _slug(dash["title"])
        return 200, {
            "id": dash["id"],
            "uid": uid,
            "url": f"/d/{uid}/{slug}",
            "status": "success",
            "version": dash["version"],
            "slug": slug,
        }

    def _get_dashboard(
        self, token: Token, query: dict[str, list[str]], body: Any, uid: str
    ) -> tuple[int, Any]:
        self._require(token, "Viewer", "dashboards:read")
        stored = self.dashboards.get(uid)
        if stored is None:
            raise ApiError(404, "Dashboard not found")
        dash = stored["dashboard"]
        folder = self.folders.get(stored["folderUid"])
        slug = _slug(dash["title"])
        meta = {
            "type": "db",
            "canSave": _RANK[token.role] >= 1,
            "canEdit": _RANK[token.role] >= 1,
            "canAdmin": _RANK[token.role] >= 2,
            "canStar": True,
            "canDelete": _RANK[token.role] >= 1,
            "slug": slug,
            "url": f"/d/{uid}/{slug}",
            "expires": "0001-01-01T00:00:00Z",
            "created": stored["created"],
            "updated": stored["updated"],
            "updatedBy": stored["updatedBy"],
            "createdBy": stored["createdBy"],
            "version": dash["version"],
            "hasAcl": False,
            "isFolder": False,
            "folderId": folder["id"] if folder else 0,
            "folderUid": stored["folderUid"],
            "folderTitle": folder["title"] if folder else "Dashboards",
            "folderUrl": self._folder_view(folder)["url"] if folder else "",
            "provisioned": False,
            "provisionedExternalId": "",
        }
        return 200, {"dashboard": copy.deepcopy(dash), "meta": meta}

    def _list_versions(
        self, token: Token, query: dict[str, list[str]], body: Any, uid: str
    ) -> tuple[int, Any]:
        self._require(token, "Viewer", "dashboards:read")
        if uid not in self.dashboards:
            raise ApiError(404, "Dashboard not found")
        limit = int((query.get("limit") or ["0"])[0] or 0) or 1000
        start = int((query.get("start") or ["0"])[0] or 0)
        newest_first = list(reversed(self.versions[uid]))[start : start + limit]
        rows = [{k: v for k, v in row.items() if k != "data"} for row in newest_first]
        return 200, {"continueToken": "", "versions": rows}

    def _search(self, token: Token, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        self._require(token, "Viewer", "dashboards:read")
        kinds = set(query.get("type", ["dash-db", "dash-folder"]))
        text = (query.get("query") or [""])[0].lower()
        folder_uids = set(query.get("folderUIDs", []))
        dash_uids = set(query.get("dashboardUIDs", []))
        hits: list[dict[str, Any]] = []
        if "dash-folder" in kinds and not folder_uids and not dash_uids:
            for f in self.folders.values():
                if text in f["title"].lower():
                    view = self._folder_view(f)
                    hits.append(
                        {
                            "id": f["id"],
                            "uid": f["uid"],
                            "title": f["title"],
                            "url": view["url"],
                            "type": "dash-folder",
                            "tags": [],
                            "isStarred": False,
                        }
                    )
        if "dash-db" in kinds:
            for uid, stored in self.dashboards.items():
                dash = stored["dashboard"]
                if folder_uids and stored["folderUid"] not in folder_uids:
                    continue
                if dash_uids and uid not in dash_uids:
                    continue
                if text not in dash["title"].lower():
                    continue
                folder = self.folders.get(stored["folderUid"])
                hits.append(
                    {
                        "id": dash["id"],
                        "uid": uid,
                        "title": dash["title"],
                        "url": f"/d/{uid}/{_slug(dash['title'])}",
                        "type": "dash-db",
                        "tags": dash.get("tags", []),
                        "isStarred": False,
                        "folderId": folder["id"] if folder else 0,
                        "folderUid": stored["folderUid"],
                        "folderTitle": folder["title"] if folder else "",
                    }
                )
        return 200, sorted(hits, key=lambda h: h["title"].lower())


@contextmanager
def serve_grafana(tokens: dict[str, Token]) -> Iterator[StandinGrafana]:
    """The stand-in on a free port of 127.0.0.1, accepting ``tokens``, until the block ends."""
    grafana = StandinGrafana(tokens=tokens)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                status, payload = 400, {"message": "bad request data"}
            else:
                try:
                    status, payload = grafana.handle(
                        method,
                        parts.path.rstrip("/") or "/",
                        parse_qs(parts.query),
                        self.headers.get("Authorization"),
                        body,
                    )
                except ApiError as exc:
                    status, payload = exc.code, exc.body
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_PUT(self) -> None:
            self._answer("PUT")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    grafana.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="grafana-standin")
    thread.start()
    try:
        yield grafana
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
