"""Tablet pages: sign in and out (forms), and the page shells of my work, a work order and an
asset, which their scripts fill from the API with the session (static/js/*.js)."""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from core.auth import service as auth
from core.auth.deps import csrf_ok, end_session, session_user, set_session_cookie
from core.auth.models import User
from core.auth.service import principal_of
from core.auth.throttle import TARPIT, LoginThrottle, TooManyAttempts
from core.clientaddr import request_client
from core.db import CommittingRoute, SessionDep
from core.errors import AppError
from workorders.assets import service as asset_service
from workorders.orders import repository, service
from workorders.orders.models import Status
from workorders.orders.routes import WorkOrderId
from workorders.web.i18n import LANGS, N_, gettext, js_catalog, other_lang, pick_lang

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
# The pages carry their language's catalog as JSON: in UTF-8, a third the size of \u escapes.
templates.env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)
#: What an asset id in a page's path may be (anything else names no asset).
ASSET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
#: The sign-in form's messages, translated when shown.
BAD_LOGIN = N_("Wrong username or password.")
LOGIN_THROTTLED = N_("Too many attempts. Please wait a moment before signing in again.")
LOGIN_EXPIRED = N_("This sign-in form had expired. Please sign in again.")
ROLE_NAMES = {
    "admin": N_("administrator"),
    "engineer": N_("engineer"),
    "technician": N_("technician"),
    "contractor": N_("contractor"),
    "requester": N_("requester"),
}


def _render(
    request: Request,
    name: str,
    ctx: dict[str, Any],
    status_code: int = 200,
    *,
    using: Jinja2Templates = templates,
) -> Response:
    """A page in the request's language with what base.html expects, from `using` (another
    package's templates that extend this base.html)."""
    lang = pick_lang(request)
    site = request.app.state.site.doc.site
    resp = using.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "_": gettext(lang),
            "other_lang": other_lang(lang),
            "catalog": js_catalog(lang),
            "tz": site.timezone,
            "role_names": ROLE_NAMES,
            **ctx,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGS:
        resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return resp


def _user(request: Request, session: SessionDep) -> tuple[User | None, str]:
    return session_user(request, session)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/ui/login", status_code=303)


def login_throttle(request: Request) -> LoginThrottle:
    """The app's sign-in throttle (app.state.login_throttle), made on first use."""
    state = request.app.state
    throttle: LoginThrottle | None = getattr(state, "login_throttle", None)
    if throttle is None:
        throttle = state.login_throttle = LoginThrottle()
    return throttle


#: The sign-in form's CSRF token lives in this cookie (there is no session yet) and in the form:
#: a page elsewhere cannot read the cookie, so it cannot post a form that matches it
#: (double submit), and so cannot sign a tablet into an account of its choosing.
LOGIN_CSRF_COOKIE = "plantroom_login_csrf"


def _login_form(
    request: Request, *, error: str | None = None, username: str = "", status_code: int = 200
) -> Response:
    # Keep the token of a form already handed out: a tablet's background fetches that land on
    # this page (its session ended) must not expire the form the person is filling in.
    kept = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    token = kept if re.fullmatch(r"[A-Za-z0-9_-]{32}", kept) else secrets.token_urlsafe(24)
    resp = _render(
        request,
        "login.html",
        {"user": None, "error": error, "username": username, "login_csrf": token},
        status_code=status_code,
    )
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
        path="/ui/login",
    )
    return resp


@router.get("/login")
def login_page(request: Request) -> Response:
    """The sign-in form."""
    return _login_form(request)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the form's CSRF token and the password, then start a session.

    Async on purpose: a refused attempt waits (the tarpit) and a check waits for a hashing slot
    on the event loop, holding no worker thread; only the check itself runs in one
    (core.auth.throttle)."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode("utf-8", "replace")):
        await asyncio.sleep(TARPIT)  # forged posts get one answer a second per connection
        return _login_form(request, error=LOGIN_EXPIRED, username=username, status_code=403)
    throttle = login_throttle(request)
    client = request_client(request)
    resp = RedirectResponse("/ui/", status_code=303)
    db = request.app.state.db

    def check() -> bool:
        with db.session() as s:
            user = auth.authenticate_password(s, username, password)
            if user is not None:
                set_session_cookie(request, resp, user.id, s)
                if user.role in OFFICE:  # the office starts at the overview; crews at their work
                    resp.headers["location"] = "/ui/overview"
            return user is not None

    try:
        throttle.check(username, client)
        async with throttle.hashing():
            ok = await run_in_threadpool(check)
    except TooManyAttempts as exc:
        await asyncio.sleep(TARPIT)
        refused = _login_form(request, error=LOGIN_THROTTLED, username=username, status_code=429)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    if not ok:
        throttle.failed(username, client)
        return _login_form(request, error=BAD_LOGIN, username=username, status_code=401)
    throttle.succeeded(username, client)
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return resp


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """End the session on the server and drop its cookie."""
    resp = _to_login()
    if csrf_ok(request, csrf):
        end_session(request, resp, session)
    return resp


def _buildings(request: Request, lang: str) -> list[dict[str, str]]:
    """The site's buildings for the list's filter, named in the page's language."""
    out = []
    for b in request.app.state.site.doc.buildings:
        name_zh = getattr(b, "name_zh", None)
        out.append({"id": b.id, "name": name_zh if lang == "zh-CN" and name_zh else b.name})
    return out


@router.get("/")
def my_work_page(request: Request, session: SessionDep) -> Response:
    """My work: the list's shell (tabs, filters, search); static/js/list.js fills it."""
    user, csrf = _user(request, session)
    if user is None:
        return _to_login()
    lang = pick_lang(request)
    _ = gettext(lang)
    done, error = request.query_params.get("done", ""), request.query_params.get("error", "")
    flash = None
    if done.isdigit():
        flash = ("ok", _("Updated work order #{n}", n=done))
    elif error:
        flash = ("error", _("Not allowed"))
    ctx = {"user": user, "csrf": csrf, "page": "list", "flash": flash}
    return _render(request, "my_work.html", {**ctx, "buildings": _buildings(request, lang)})


@router.get("/workorders/{wo_id}")
def workorder_page(wo_id: WorkOrderId, request: Request, session: SessionDep) -> Response:
    """One work order: the page's shell; static/js/workorder.js fills it. The shell is the same
    for every work order (the script reads the id from the path), so it serves from cache
    offline; a work order the user may not see answers 404 here as in the API."""
    user, csrf = _user(request, session)
    if user is None:
        return _to_login()
    if repository.get(session, wo_id, **service.visible_scope(principal_of(user))) is None:
        return _not_found(request, user, csrf)
    # Where each state may go for this role: the page shows the next moves of a change it has
    # queued offline before the server has answered.
    moves = {str(s): service.allowed_targets(s, user.role) for s in Status}
    ctx = {"user": user, "csrf": csrf, "page": "workorder", "moves": moves}
    return _render(request, "workorder.html", ctx)


@router.get("/assets/{asset_id}")
def asset_page(
    asset_id: Annotated[str, PathParam()], request: Request, session: SessionDep
) -> Response:
    """One asset: where it is, its open work and history; static/js/asset.js fills it."""
    user, csrf = _user(request, session)
    if user is None:
        return _to_login()
    if not ASSET_ID.fullmatch(asset_id) or repository.get_asset(session, asset_id) is None:
        return _not_found(request, user, csrf)
    # A contractor opens only an asset its firm has work on, as in the API (issue 15).
    if not asset_service.may_read(session, who=principal_of(user), asset_id=asset_id):
        return _not_found(request, user, csrf)
    ctx = {"user": user, "csrf": csrf, "page": "asset", "asset_id": asset_id}
    return _render(request, "asset.html", ctx)


def _not_found(request: Request, user: User, csrf: str) -> Response:
    ctx = {"user": user, "csrf": csrf, "page": "none"}
    return _render(request, "not_found.html", ctx, status_code=404)


#: The roles of the office: the engineers' and administrators' pages.
OFFICE = ("admin", "engineer")


def page_user(
    request: Request, session: SessionDep, roles: tuple[str, ...] | None = None
) -> tuple[User, str] | Response:
    """The signed-in user and their CSRF token, for a page only `roles` may open (any signed-in
    user when None); otherwise the answer to send instead: to sign in when nobody is, 403 with
    a page that says so when the role may not open it."""
    user, csrf = _user(request, session)
    if user is None:
        return _to_login()
    if roles is not None and user.role not in roles:
        ctx = {"user": user, "csrf": csrf, "page": "none"}
        return _render(request, "forbidden.html", ctx, status_code=403)
    return user, csrf


render = _render
not_found = _not_found


@router.post("/workorders/{wo_id}/status")
def change_status(
    wo_id: WorkOrderId,
    request: Request,
    session: SessionDep,
    status: Annotated[str, Form(max_length=20)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A form post (pages without scripts): acknowledge, hold with a reason, resume, resolve."""
    user, _ = _user(request, session)
    if user is None:
        return _to_login()
    if not csrf_ok(request, csrf):
        return HTMLResponse("CSRF check failed: reload the page and try again.", status_code=403)
    who = principal_of(user)
    wo = repository.get(session, wo_id, **service.visible_scope(who))
    if wo is None:
        return HTMLResponse("Work order not found.", status_code=404)
    try:
        service.change_status(
            session,
            wo=wo,
            target=status,
            actor=who.username,
            role=who.role,
            organisation_id=who.organisation_id,
            reason=reason or None,
            note=note,
        )
    except (AppError, ValueError):
        return RedirectResponse(f"/ui/?error={wo_id}", status_code=303)
    return RedirectResponse(f"/ui/?done={wo_id}", status_code=303)
