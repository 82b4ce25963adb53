"""The tablet as an installable, offline-first app: its web manifest, its service worker (scope
/ui/), the session facts its sync script needs (who is signed in, the live CSRF token), and the
QR scan page.

The service worker is static/sw.js with two things filled in when served: a version made from
the static files' contents (a new deploy is a new worker, whose caches replace the old ones) and
the list of static files to keep for offline use.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from core.db import CommittingRoute, SessionDep
from workorders.web.i18n import gettext, pick_lang
from workorders.web.routes import HERE, _render, _to_login, _user

router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)
STATIC = HERE / "static"
#: What the worker keeps for offline use: the app's scripts, styles, vendored code and icons
#: (not the occupant request page's style, nor licences and source maps, nor the office's
#: screens in static/office/: the overview, alerts, PM calendar, scorecard and people pages
#: show the compound as it is now and are no use offline; the worker still keeps each one
#: the first time it is loaded).
SHELL_SUFFIXES = (".js", ".css", ".png", ".svg", ".woff2")
SHELL_SKIP = frozenset({"sw.js", "request.css"})
OFFICE_DIR = "office"
NO_CACHE = {"Cache-Control": "no-cache"}
THEME = "#1f3a5f"


def _served_files(static: Path) -> list[Path]:
    return sorted(
        p
        for p in static.rglob("*")
        if p.is_file() and p.suffix in SHELL_SUFFIXES and p.name not in SHELL_SKIP
    )


def shell_files(static: Path) -> list[Path]:
    """The files the worker fetches and keeps when it installs: the tablet's shell."""
    return [p for p in _served_files(static) if p.relative_to(static).parts[0] != OFFICE_DIR]


def worker_source(static: Path) -> str:
    """static/sw.js with its version and precache list filled in. The version hashes every
    served file, the office's too: a kept copy of a changed office script is dropped with the
    old version, though only the shell is fetched ahead."""
    source = static / "sw.js"
    files = shell_files(static)
    digest = hashlib.sha256()
    for p in [source, *_served_files(static)]:
        digest.update(p.relative_to(static).as_posix().encode())
        digest.update(p.read_bytes())
    urls = ["/static/" + p.relative_to(static).as_posix() for p in files]
    urls.append("/ui/manifest.webmanifest")
    text = source.read_text(encoding="utf-8")
    return text.replace('"__PR_VERSION__"', json.dumps(digest.hexdigest()[:12])).replace(
        '"__PR_PRECACHE__"', json.dumps(urls)
    )


@functools.cache
def _worker() -> str:
    """The app's service worker, read once per process."""
    return worker_source(STATIC)


@router.get("/sw.js")
def service_worker() -> Response:
    """The service worker, for scope /ui/; never cached by HTTP, so updates reach tablets."""
    return Response(
        _worker(),
        media_type="application/javascript",
        headers={"Service-Worker-Allowed": "/ui/", **NO_CACHE},
    )


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    """The web app manifest: installable, standalone, opening on my work."""
    _ = gettext(pick_lang(request))
    body: dict[str, Any] = {
        "name": _("Plantroom"),
        "short_name": _("Plantroom"),
        "description": _("Work orders for the maintenance crew, online and offline"),
        "id": "/ui/",
        "start_url": "/ui/",
        "scope": "/ui/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME,
        "background_color": THEME,
        "icons": [
            {
                "src": f"/static/icons/icon-{size}.png",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in (192, 512)
        ],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/manifest+json",
        headers=NO_CACHE,
    )


@router.get("/session")
def session_facts(request: Request, session: SessionDep) -> JSONResponse:
    """Who is signed in on this browser and the session's CSRF token ({"user": null} when nobody
    is): the sync script asks before it replays queued actions, so a replay uses the current
    session's token and only its owner's actions are sent."""
    user, csrf = _user(request, session)
    body: dict[str, Any] = {"user": None, "csrf": ""}
    if user is not None:
        body = {
            "user": {
                "id": user.id,
                "username": user.username,
                "name": user.display_name,
                "role": str(user.role),
            },
            "csrf": csrf,
        }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/scan")
def scan_page(request: Request, session: SessionDep) -> Response:
    """Scan an asset's QR code with the camera (static/js/scan.js), or type its id."""
    user, csrf = _user(request, session)
    if user is None:
        return _to_login()
    typed = request.query_params.get("asset", "").strip()
    if typed:  # the typed-id form, sent without the script
        return RedirectResponse(f"/ui/assets/{quote(typed, safe='')}", status_code=303)
    return _render(request, "scan.html", {"user": user, "csrf": csrf, "page": "scan"})
