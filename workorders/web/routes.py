"""Tablet pages: sign in, open work orders, acknowledge and resolve. Session cookies + CSRF."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
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
from workorders.orders import repository, service
from workorders.orders.models import OPEN_STATES, HoldReason, WorkOrder
from workorders.orders.repository import ListQuery
from workorders.orders.routes import WorkOrderId
from workorders.web.i18n import LANGS, pick_lang, translator

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)


def _render(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200) -> Response:
    lang = pick_lang(request)
    resp = templates.TemplateResponse(
        request, name, {"lang": lang, "t": translator(lang), **ctx}, status_code=status_code
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
    token = secrets.token_urlsafe(24)
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
        return _login_form(request, error="login_expired", username=username, status_code=403)
    throttle = login_throttle(request)
    client = request_client(request)
    resp = RedirectResponse("/ui/", status_code=303)
    db = request.app.state.db

    def check() -> bool:
        with db.session() as s:
            user = auth.authenticate_password(s, username, password)
            if user is not None:
                set_session_cookie(request, resp, user.id, s)
            return user is not None

    try:
        throttle.check(username, client)
        async with throttle.hashing():
            ok = await run_in_threadpool(check)
    except TooManyAttempts as exc:
        await asyncio.sleep(TARPIT)
        refused = _login_form(request, error="login_throttled", username=username, status_code=429)
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    if not ok:
        throttle.failed(username, client)
        return _login_form(request, error="bad_login", username=username, status_code=401)
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


@router.get("/")
def workorders_page(request: Request, session: SessionDep) -> Response:
    """Open work orders, most urgent first."""
    user, csrf = _user(request, session)
    if user is None:
        return _to_login()
    who = principal_of(user)
    tz = ZoneInfo(request.app.state.site.doc.site.timezone)
    query = service.visible_query(who, ListQuery(statuses=[str(s) for s in OPEN_STATES]))
    rows = repository.list_(session, query=query, limit=200)
    rows.sort(key=lambda w: (w.priority, -w.id))
    items = []
    for w in rows:
        trig = w.trigger or None
        trig_time = ""
        if trig and trig.get("ts"):
            trig_time = (
                dt.datetime.fromisoformat(trig["ts"]).astimezone(tz).strftime("%m-%d %H:%M:%S")
            )
        items.append(
            {
                "id": w.id,
                "title": w.title,
                "priority": w.priority,
                "status": w.status,
                "asset_id": w.asset_id,
                "asset_name": w.asset.name if w.asset else None,
                "location": w.asset.location if w.asset else "",
                "trigger": trig,
                "trigger_time": trig_time,
                "alert_count": w.alert_count,
                "opened": w.created_at.astimezone(tz).strftime("%m-%d %H:%M"),
                "allowed": service.allowed_targets(w.status, who.role),
                "hold_reason": w.hold_reason,
                "sla": _sla_line(w, tz),
            }
        )
    flash = request.query_params.get("done")
    t = translator(pick_lang(request))
    return _render(
        request,
        "workorders.html",
        {
            "user": user,
            "csrf": csrf,
            "items": items,
            "hold_reasons": [r.value for r in HoldReason],
            "now": dt.datetime.now(tz).strftime("%H:%M:%S"),
            "flash": f"{t('done')} #{flash}"
            if flash and flash.isdigit()
            else (t("not_allowed") if request.query_params.get("error") else None),
            "flash_kind": "error" if request.query_params.get("error") else "ok",
        },
    )


def _sla_line(w: WorkOrder, tz: ZoneInfo) -> dict[str, Any] | None:
    """The SLA deadline a crew works to next: respond by, until responded to, then resolve by;
    whether it is already missed, whether the clock is paused (on hold), and whether the time
    is provisional (it rests on a holiday year nobody has loaded yet)."""
    if w.response_due_at is not None and w.response_met_at is None:
        which, due, missed = "response", w.response_due_at, w.response_breached
    elif w.resolution_due_at is not None:
        which, due, missed = "resolution", w.resolution_due_at, w.resolution_breached
    else:
        return None
    return {
        "what": "respond_by" if which == "response" else "resolve_by",
        "due": due.astimezone(tz).strftime("%m-%d %H:%M"),
        "missed": missed,
        "paused": w.status == "on_hold" and which == "resolution",
        "provisional": which in (w.sla_provisional or {}),
    }


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
    """A button press: acknowledge, hold (with a reason), resume or resolve."""
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
