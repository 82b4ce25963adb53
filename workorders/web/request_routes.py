"""The public occupant report page, /r/{asset_id}: what an asset's QR code opens. No sign-in.

Anyone may report a problem, with an optional photo and contact; the report arrives as a
'request' work order (origin request, P3) for triage. The form is protected against posting
from other sites by a double-submit cookie, and rate-limited per client address and per asset,
with no limit shared by everyone (workorders/web/ratelimit.py). English and Simplified Chinese.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from core.auth.throttle import TARPIT
from core.clientaddr import request_client
from core.db import CommittingRoute, SessionDep, utcnow
from workorders.attachments import service as attachments
from workorders.contractors import service as complaints
from workorders.orders import repository, service
from workorders.orders.models import Asset, WorkOrder
from workorders.web.i18n import LANGS, gettext, other_lang, pick_lang
from workorders.web.ratelimit import RequestLimiter

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(route_class=CommittingRoute, tags=["requests"], include_in_schema=False)

CSRF_COOKIE = "plantroom_report_csrf"
MAX_DESCRIPTION = 2000
MAX_CONTACT = 200
#: Who a report is recorded as: the page has no sign-in.
OCCUPANT = "occupant"
ASSET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: Control characters other than tab and newline: dropped from what occupants type.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: Checked by _asset, so that a malformed id gets the friendly 404 page, not a JSON 422.
AssetPath = Annotated[str, PathParam()]
#: The page loads nothing from anywhere else, runs no script and cannot be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def limiter(request: Request) -> RequestLimiter:
    """The app's report limiter: app.state.report_limiter, made from settings on first use
    (PLANTROOM_REPORT_LIMIT_PER_CLIENT, _PER_ASSET, _WINDOW: 20 and 10 reports per 600 s)."""
    state = request.app.state
    lim: RequestLimiter | None = getattr(state, "report_limiter", None)
    if lim is None:
        s = state.settings
        lim = RequestLimiter(
            per_client=s.report_limit_per_client,
            per_asset=s.report_limit_per_asset,
            window=s.report_limit_window,
        )
        state.report_limiter = lim
    return lim


async def _too_many(request: Request, wait: float) -> Response:
    """429 with Retry-After, after the tarpit: a client hammering the form gets one answer a
    second per connection (the wait holds no thread and no database session)."""
    await asyncio.sleep(TARPIT)
    resp = _page(
        request,
        "request_notice.html",
        {"kind": "slow", "minutes": max(1, math.ceil(wait / 60))},
        status_code=429,
    )
    resp.headers["Retry-After"] = str(limiter(request).retry_after(wait))
    return resp


def _refs(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="plantroom-report-ref")


def _mb(request: Request) -> int:
    return attachments.max_bytes(request.app.state.settings) // (1024 * 1024)


def _page(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200) -> Response:
    lang = pick_lang(request)
    resp = templates.TemplateResponse(
        request,
        name,
        {"lang": lang, "_": gettext(lang), "other_lang": other_lang(lang), **ctx},
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )
    if request.query_params.get("lang") in LANGS:
        resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return resp


def _form(
    request: Request,
    asset: Asset,
    *,
    error: str | None = None,
    description: str = "",
    contact: str = "",
    status_code: int = 200,
) -> Response:
    token = request.cookies.get(CSRF_COOKIE, "")
    if not (20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
        token = secrets.token_urlsafe(24)
    resp = _page(
        request,
        "request_form.html",
        {
            "asset": asset,
            "csrf": token,
            "error": error,
            "description": description,
            "contact": contact,
            "max_description": MAX_DESCRIPTION,
            "max_contact": MAX_CONTACT,
            "mb": _mb(request),
        },
        status_code=status_code,
    )
    resp.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=86400,
        path="/r/",
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.cookie_secure,
    )
    return resp


def _not_found(request: Request) -> Response:
    return _page(request, "request_notice.html", {"kind": "not_found"}, status_code=404)


def _asset(session: Session, asset_id: str) -> Asset | None:
    # Anything but an id (a NUL byte, say) names no asset; PostgreSQL would refuse to look.
    ok = len(asset_id) <= 100 and ASSET_ID.fullmatch(asset_id)
    return repository.get_asset(session, asset_id) if ok else None


def _active_asset(session: Session, asset_id: str) -> Asset | None:
    a = _asset(session, asset_id)
    return a if a is not None and a.active else None


@router.get("/r/{asset_id}")
def report_page(asset_id: AssetPath, request: Request, session: SessionDep) -> Response:
    """The report form for one asset; a 404 page for an unknown or retired one."""
    asset = _active_asset(session, asset_id)
    if asset is None:
        return _not_found(request)
    return _form(request, asset)


def _open_report(
    session: Session,
    *,
    asset: Asset,
    description: str,
    contact: str,
    photo: tuple[attachments.ReceivedFile, attachments.FileKind] | None,
    store: Path,
    site: Any,
    complaint: bool = False,
) -> WorkOrder:
    first = description.splitlines()[0].strip() if description.strip() else ""
    snippet = first if len(first) <= 100 else first[:99] + "…"
    heading = "Occupant complaint" if complaint else "Occupant report"
    wo = service.report(
        session,
        site=site,
        title=f"{heading}: {snippet}",
        description=description,
        asset_id=asset.id,
        reporter_contact=contact or None,
        actor=OCCUPANT,
    )
    if photo is not None:
        upload, kind = photo
        attachments.save(
            session, wo=wo, store=store, upload=upload, kind=kind, actor=OCCUPANT, role=OCCUPANT
        )
    if complaint:
        # A complaint about work done here counts against the firm that did it (issue 15).
        complaints.complaint_from_request(session, request=wo, text=description, now=utcnow())
    return wo


@router.post("/r/{asset_id}")
async def submit_report(asset_id: AssetPath, request: Request, session: SessionDep) -> Response:
    """Open a request work order from the form, then show the thank-you page (303)."""
    client = request_client(request)
    # Refused first, before the database or an upload is touched, when no report could be taken
    # anyway; nothing is spent until the form has passed its CSRF check.
    wait = limiter(request).wait(client, asset_id)
    if wait > 0:
        return await _too_many(request, wait)
    asset = await run_in_threadpool(_active_asset, session, asset_id)
    if asset is None:
        return _not_found(request)
    lang = pick_lang(request)
    _ = gettext(lang)
    settings = request.app.state.settings
    store = attachments.root(settings)
    try:
        form = await attachments.receive(
            request,
            incoming=store / ".incoming",
            max_file_bytes=attachments.max_bytes(settings),
            file_field="photo",
            text_fields=("csrf", "description", "contact", "complaint"),
            max_field_bytes=4 * MAX_DESCRIPTION + 1024,  # UTF-8: up to 4 bytes a character
        )
    except attachments.TooLarge as exc:
        return _form(
            request,
            asset,
            error=_("The photo is larger than {mb} MB.", mb=_mb(request)),
            description=exc.fields.get("description", ""),
            contact=exc.fields.get("contact", ""),
            status_code=413,
        )
    except (attachments.BadUpload, attachments.UnsupportedType) as exc:
        return _form(
            request,
            asset,
            error=_("The form could not be read. Please try again."),
            description=exc.fields.get("description", ""),
            contact=exc.fields.get("contact", ""),
            status_code=exc.status_code,
        )
    try:
        description = CONTROL.sub("", form.fields.get("description", "")).strip()
        contact = " ".join(CONTROL.sub("", form.fields.get("contact", "")).split())
        expected = request.cookies.get(CSRF_COOKIE, "")
        given = form.fields.get("csrf", "")
        keep = {"description": description, "contact": contact}
        if not (expected and hmac.compare_digest(expected.encode(), given.encode())):
            await asyncio.sleep(TARPIT)  # forged posts get one answer a second per connection
            return _form(
                request,
                asset,
                error=_("The form had expired. Please check it and send it again."),
                status_code=403,
                **keep,
            )
        wait = limiter(request).take(client, asset.id)
        if wait > 0:
            return await _too_many(request, wait)
        if not description:
            return _form(
                request, asset, error=_("Please describe the problem."), status_code=422, **keep
            )
        if len(description) > MAX_DESCRIPTION:
            msg = _("Please keep the description to {n} characters or fewer.", n=MAX_DESCRIPTION)
            return _form(request, asset, error=msg, status_code=422, **keep)
        if len(contact) > MAX_CONTACT:
            msg = _("The contact is too long ({n} characters at most).", n=MAX_CONTACT)
            return _form(request, asset, error=msg, status_code=422, **keep)
        photo = None
        if form.file is not None:
            try:
                photo = (form.file, attachments.check_type(form.file, attachments.IMAGES))
            except attachments.UnsupportedType:
                msg = _("The photo must be a JPEG, PNG, WebP or HEIC image.")
                return _form(request, asset, error=msg, status_code=415, **keep)
        try:
            wo = await run_in_threadpool(
                lambda: _open_report(
                    session,
                    asset=asset,
                    description=description,
                    contact=contact,
                    photo=photo,
                    store=store,
                    site=request.app.state.site,
                    complaint=form.fields.get("complaint", "") == "yes",
                )
            )
        except service.UnknownAsset:  # retired while the form was being filled in
            return _not_found(request)
    finally:
        form.discard()
    ref = _refs(request).dumps(wo.id)
    return RedirectResponse(
        f"/r/{asset.id}/thanks?ref={ref}&lang={lang}", status_code=303, headers=SECURITY_HEADERS
    )


@router.get("/r/{asset_id}/thanks")
def report_thanks(
    asset_id: AssetPath, request: Request, session: SessionDep, ref: str = ""
) -> Response:
    """The thank-you page with the report's reference number."""
    asset = _asset(session, asset_id)
    try:
        wo_id = int(_refs(request).loads(ref[:200], max_age=7 * 86400))
    except (BadSignature, ValueError, TypeError):
        return _not_found(request)
    if asset is None:
        return _not_found(request)
    return _page(request, "request_thanks.html", {"asset": asset, "reference": wo_id})
