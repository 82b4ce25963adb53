"""REST routes for contractors, SLA scorecards and PM compliance, under /api/v1.

Who sees what
    - admin and engineer: every contractor;
    - contractor: only their own organisation; any other id answers 404, as for work orders,
      so a contractor cannot even learn which ids exist;
    - technician and requester: 403 on every route here, whatever the id (the role is refused
      before any id is looked at, so nothing leaks either way). Technicians do the work but do
      not take part in paying for it.
    - The PM compliance report is the administration centre's: admin and engineer only.

A month is 'YYYY-MM' in the site's timezone (default: the month under way). Anything else, or a
month that has not begun, answers 422 with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from config.site import SiteConfig
from core.auth.deps import CurrentPrincipal
from core.auth.models import Organisation, Role
from core.auth.service import Principal
from core.db import MAX_ID, CommittingRoute, SessionDep, utcnow
from core.errors import Forbidden, NotFound
from workorders.contractors import repository as month_repository
from workorders.contractors import scorecard, xlsx
from workorders.contractors import service as month_service
from workorders.contractors.schemas import (
    BreachList,
    BreachOut,
    ComplaintIn,
    ComplaintList,
    ComplaintOut,
    ComplianceReportOut,
    ContractorOut,
    DecisionIn,
    DisputeIn,
    DisputeList,
    DisputeOut,
    PaymentRuleOut,
    RejectIn,
    ScorecardOut,
    SignoffIn,
    SignoffOut,
)
from workorders.pm import service as pm
from workorders.sla import repository as sla_repository
from workorders.sla.config import payment_rule

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["contractors"])

#: Organisation ids are 32-bit database integers on PostgreSQL.
ContractorId = Annotated[int, Path(ge=1, le=2_147_483_647, description="contractor id")]
Month = Annotated[
    str | None,
    Query(max_length=20, description="YYYY-MM in the site's timezone; default: this month"),
]
#: DOMAIN.md: PM compliance target.
PM_TARGET_PERCENT = 90.0
_OFFICE = frozenset({Role.admin, Role.engineer})


class ContractorNotFound(NotFound):
    """No such contractor, or not one the caller may see."""

    def __init__(self, org_id: int):
        super().__init__(f"contractor {org_id} not found")


def _site(request: Request) -> SiteConfig:
    site: SiteConfig = request.app.state.site
    return site


def _refuse_outsiders(who: Principal) -> None:
    if who.role not in _OFFICE and who.role is not Role.contractor:
        raise Forbidden(f"role {who.role} cannot see contractors or their scorecards")


def _visible(session: Session, who: Principal, org_id: int) -> Organisation:
    """The contractor if the caller may see it; else 404 (403 for roles that see none)."""
    _refuse_outsiders(who)
    if who.role is Role.contractor and who.organisation_id != org_id:
        raise ContractorNotFound(org_id)
    org = sla_repository.contractor(session, org_id)
    if org is None:
        raise ContractorNotFound(org_id)
    return org


def _month(site: SiteConfig, month: str | None, now: dt.datetime) -> dt.date:
    tz = ZoneInfo(site.doc.site.timezone)
    if month is None:
        local = now.astimezone(tz)
        return dt.date(local.year, local.month, 1)
    return scorecard.parse_month(month, tz, now)


@router.get("/contractors", response_model=list[ContractorOut])
def list_contractors(
    request: Request, session: SessionDep, who: CurrentPrincipal
) -> list[ContractorOut]:
    """Contractor organisations: all of them for admins and engineers, a contractor's own."""
    _refuse_outsiders(who)
    if who.role is Role.contractor:
        ids = [who.organisation_id] if who.organisation_id is not None else []
        orgs = sla_repository.contractors(session, ids)
    else:
        orgs = sla_repository.contractors(session)
    site = _site(request)
    return [
        ContractorOut(
            id=o.id,
            name=o.name,
            active=o.active,
            monthly_fee=o.monthly_fee,
            payment_rule=PaymentRuleOut.of(payment_rule(site.doc.contractors, o.name)),
        )
        for o in orgs
    ]


def _card(
    request: Request, session: Session, who: Principal, org_id: int, month: str | None
) -> scorecard.Scorecard:
    org = _visible(session, who, org_id)
    site = _site(request)
    now = utcnow()
    card = scorecard.scorecard(
        session, site=site, contractor=org, month=_month(site, month, now), now=now
    )
    scorecard.note_reported(session, card, now=now, site_name=site.doc.site.name)
    return card


def _previous(
    request: Request, session: Session, card: scorecard.Scorecard
) -> scorecard.Scorecard | None:
    """The month before's scorecard, for comparison (not noted as reported)."""
    first = dt.date.fromisoformat(card.month + "-01")
    if first.year <= 1970 and first.month == 1:
        return None
    before = (first - dt.timedelta(days=1)).replace(day=1)
    org = sla_repository.contractor(session, card.contractor_id)
    if org is None:
        return None
    return scorecard.scorecard(session, site=_site(request), contractor=org, month=before)


@router.get("/contractors/{org_id}/scorecard", response_model=ScorecardOut)
def get_scorecard(
    org_id: ContractorId,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    month: Month = None,
) -> ScorecardOut:
    """A contractor's monthly scorecard: on-time %, counts, breaches, mean times, score, pay.

    Judged as of the month's end (or now, in the month under way): asking again later gives
    the same figures unless changes made during the month were synced since, or a holiday year
    its clocks needed was loaded; an ended month that changed after it was served lists the
    revision. A month whose clocks need a holiday year nobody has loaded is reported with those
    clocks, the score and the payment flagged provisional."""
    card = _card(request, session, who, org_id, month)
    revised = sla_repository.scorecard_revisions(session, card.contractor_id, card.month)
    previous = _previous(request, session, card)
    return ScorecardOut.of(card, scorecard.TARGET_ON_TIME_PERCENT, revised, previous)


@router.get(
    "/contractors/{org_id}/scorecard.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the scorecard as CSV"}},
)
def export_scorecard(
    org_id: ContractorId,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    month: Month = None,
) -> Response:
    """The scorecard as CSV (UTF-8 with a BOM, so Excel shows Chinese names)."""
    card = _card(request, session, who, org_id, month)
    body = "\ufeff" + scorecard.to_csv(card)
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="scorecard-{org_id}-{card.month}.csv"'
        },
    )


@router.get(
    "/contractors/{org_id}/scorecard.xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {xlsx.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "the scorecard as an Excel workbook: a summary sheet and a sheet "
            "of the breaches",
        }
    },
)
def export_scorecard_xlsx(
    org_id: ContractorId,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    month: Month = None,
    lang: Annotated[
        Literal["en", "zh-CN"] | None,
        Query(
            description="the workbook's language; default: the UI's language (its lang "
            "cookie), else from Accept-Language, else en"
        ),
    ] = None,
    accept_language: Annotated[
        str | None,
        Header(max_length=500, description="zh... gives Simplified Chinese when lang is not set"),
    ] = None,
) -> Response:
    """The scorecard as an Excel workbook, in English or Simplified Chinese: the summary (on
    time by priority, counts, score, payment, provisional flags) and one row per breach, as
    the breaches list gives them. Times are the site's local time."""
    card = _card(request, session, who, org_id, month)
    revised = sla_repository.scorecard_revisions(session, card.contractor_id, card.month)
    # The user's language: as asked, else the UI's choice (its lang cookie), else the browser's.
    ui_lang = request.cookies.get("lang")
    chosen = (
        lang
        or (ui_lang if ui_lang in ("en", "zh-CN") else None)
        or ("zh-CN" if (accept_language or "").lower().startswith("zh") else "en")
    )
    body = xlsx.to_xlsx(
        card, lang=chosen, target=scorecard.TARGET_ON_TIME_PERCENT, revised=bool(revised)
    )
    return Response(
        content=body,
        media_type=xlsx.MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="scorecard-{org_id}-{card.month}.xlsx"',
            "Content-Language": chosen,
        },
    )


@router.get("/contractors/{org_id}/sla-breaches", response_model=BreachList)
def list_breaches(
    org_id: ContractorId,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    month: Month = None,
) -> BreachList:
    """The targets a contractor missed that fell due in the month, by due time; one whose
    dispute was accepted is listed with `counted: false`."""
    card = _card(request, session, who, org_id, month)
    items = []
    for ln, c in card.missed:
        d = card.dispute_of(ln.id, c.which)
        items.append(
            BreachOut(
                workorder_id=ln.id,
                title=ln.title,
                priority=ln.priority,
                policy=ln.policy,
                clock=c.which,
                due_at=c.due_at,
                met_at=c.met_at,
                over_seconds=c.over_seconds,
                status=ln.status,
                counted=c.outcome == "breached",
                dispute_id=d.id if d is not None else None,
                dispute_status=d.status if d is not None else None,  # type: ignore[arg-type]
            )
        )
    return BreachList(
        contractor_id=card.contractor_id, month=card.month, as_of=card.as_of, items=items
    )


# --- disputes, sign-off, complaints --------------------------------------------------------------

DisputeId = Annotated[int, Path(ge=1, le=MAX_ID, description="dispute id")]
ComplaintId = Annotated[int, Path(ge=1, le=MAX_ID, description="complaint id")]
_NOT_SEEN: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such contractor, or one the caller may not see"}
}


def _month_label(request: Request, month: str | None) -> tuple[str, dt.date]:
    site = _site(request)
    first = _month(site, month, utcnow())
    return f"{first:%Y-%m}", first


@router.get(
    "/contractors/{org_id}/disputes",
    response_model=DisputeList,
    responses={
        403: {"description": "a technician or requester"},
        **_NOT_SEEN,
        422: {"description": "a month that is not YYYY-MM or has not begun"},
    },
)
def list_disputes(
    org_id: ContractorId,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    month: Month = None,
) -> DisputeList:
    """The disputes of a contractor's month, oldest first, with their outcome."""
    _visible(session, who, org_id)
    label, _first = _month_label(request, month)
    rows = month_repository.disputes(session, org_id, label)
    return DisputeList(contractor_id=org_id, month=label, items=[DisputeOut.of(d) for d in rows])


@router.post(
    "/contractors/{org_id}/disputes",
    response_model=DisputeOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {"description": "the dispute, open until an admin decides it"},
        403: {"description": "anyone but a user of the contractor itself"},
        **_NOT_SEEN,
        409: {"description": "that breach is disputed already"},
        422: {"description": "not a breach judged in that month, or a bad month"},
    },
)
def raise_dispute(
    org_id: ContractorId,
    body: DisputeIn,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
) -> DisputeOut:
    """The contractor disputes one breach of a month (a work order's response or resolution
    clock) with a reason; an admin accepts or rejects it."""
    org = _visible(session, who, org_id)
    row = month_service.raise_dispute(
        session,
        site=_site(request),
        who=who,
        contractor=org,
        month=body.month,
        workorder_id=body.workorder_id,
        clock=body.clock,
        reason=body.reason,
        now=utcnow(),
    )
    return DisputeOut.of(row)


_DECIDE: dict[int | str, dict[str, Any]] = {
    200: {"description": "the dispute, decided"},
    403: {"description": "anyone but an admin"},
    404: {"description": "no such contractor or dispute, or one the caller may not see"},
    409: {"description": "the dispute was decided already"},
}


@router.post(
    "/contractors/{org_id}/disputes/{dispute_id}/accept",
    response_model=DisputeOut,
    responses=_DECIDE,
)
def accept_dispute(
    org_id: ContractorId,
    dispute_id: DisputeId,
    body: DecisionIn,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
) -> DisputeOut:
    """An admin accepts a dispute: the breach no longer counts in the score or the pay. A month
    already reported or signed off shows the change as a revision."""
    org = _visible(session, who, org_id)
    row = month_service.decide_dispute(
        session,
        site=_site(request),
        who=who,
        contractor=org,
        dispute_id=dispute_id,
        accept=True,
        note=body.note,
        now=utcnow(),
    )
    return DisputeOut.of(row)


@router.post(
    "/contractors/{org_id}/disputes/{dispute_id}/reject",
    response_model=DisputeOut,
    responses={**_DECIDE, 422: {"description": "no note saying why"}},
)
def reject_dispute(
    org_id: ContractorId,
    dispute_id: DisputeId,
    body: RejectIn,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
) -> DisputeOut:
    """An admin rejects a dispute, with a note saying why: the breach still counts."""
    org = _visible(session, who, org_id)
    row = month_service.decide_dispute(
        session,
        site=_site(request),
        who=who,
        contractor=org,
        dispute_id=dispute_id,
        accept=False,
        note=body.note,
        now=utcnow(),
    )
    return DisputeOut.of(row)


@router.post(
    "/contractors/{org_id}/signoff",
    response_model=SignoffOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {"description": "the sign-off, with the figures signed off"},
        403: {"description": "anyone but an admin"},
        **_NOT_SEEN,
        409: {
            "description": "the month has not ended, was signed off already, or has disputes "
            "still open"
        },
        422: {"description": "a month that is not YYYY-MM or has not begun"},
    },
)
def sign_off(
    org_id: ContractorId,
    body: SignoffIn,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
) -> SignoffOut:
    """An admin signs an ended month off; the scorecard shows who and when, and any later change
    to the month's figures as a revision."""
    org = _visible(session, who, org_id)
    row = month_service.sign_off(
        session,
        site=_site(request),
        who=who,
        contractor=org,
        month=body.month,
        note=body.note,
        now=utcnow(),
    )
    return SignoffOut.of(row)


@router.get(
    "/contractors/{org_id}/complaints",
    response_model=ComplaintList,
    responses={
        403: {"description": "a technician or requester"},
        **_NOT_SEEN,
        422: {"description": "a month that is not YYYY-MM or has not begun"},
    },
)
def list_complaints(
    org_id: ContractorId,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    month: Month = None,
) -> ComplaintList:
    """The complaints made against a contractor in a month (withdrawn ones too, marked)."""
    _visible(session, who, org_id)
    label, first = _month_label(request, month)
    start, end = scorecard.month_bounds(first, ZoneInfo(_site(request).doc.site.timezone))
    rows = month_repository.complaints(session, org_id, start, end)
    return ComplaintList(
        contractor_id=org_id,
        month=label,
        counted=sum(1 for c in rows if c.withdrawn_at is None),
        items=[ComplaintOut.of(c) for c in rows],
    )


@router.post(
    "/contractors/{org_id}/complaints",
    response_model=ComplaintOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {"description": "the complaint, counted in the month it was made"},
        403: {"description": "anyone but an admin"},
        **_NOT_SEEN,
        409: {"description": "that occupant request is a complaint already"},
        422: {
            "description": "a work order not the contractor's, a request that is not an "
            "occupant request, both request_id and made_at, or a time in the future"
        },
    },
)
def record_complaint(
    org_id: ContractorId,
    body: ComplaintIn,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
) -> ComplaintOut:
    """An admin records a complaint against the contractor's work, or marks an occupant request
    as one (`request_id`: made when it was reported). It counts in the month it was made, and
    the payment rule deducts its fixed amount per complaint."""
    org = _visible(session, who, org_id)
    if body.request_id is not None and body.made_at is not None:
        raise month_service.BadComplaint(
            "an occupant request was made when it was reported: give request_id or made_at"
        )
    row = month_service.record_complaint(
        session,
        site=_site(request),
        who=who,
        contractor=org,
        text=body.text,
        workorder_id=body.workorder_id,
        request_id=body.request_id,
        made_at=body.made_at,
        now=utcnow(),
    )
    return ComplaintOut.of(row)


@router.post(
    "/contractors/{org_id}/complaints/{complaint_id}/withdraw",
    response_model=ComplaintOut,
    responses={
        200: {"description": "the complaint, withdrawn: listed, no longer counted"},
        403: {"description": "anyone but an admin"},
        404: {"description": "no such contractor or complaint, or one the caller may not see"},
        409: {"description": "withdrawn already"},
    },
)
def withdraw_complaint(
    org_id: ContractorId,
    complaint_id: ComplaintId,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
) -> ComplaintOut:
    """An admin withdraws a complaint recorded by mistake; a reported month shows the change as
    a revision."""
    org = _visible(session, who, org_id)
    row = month_service.withdraw_complaint(
        session,
        site=_site(request),
        who=who,
        contractor=org,
        complaint_id=complaint_id,
        now=utcnow(),
    )
    return ComplaintOut.of(row)


@router.get("/reports/pm-compliance", response_model=ComplianceReportOut, tags=["reports"])
def pm_compliance(
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    month: Month = None,
    grace: Annotated[
        Literal["due_date", "smrp"],
        Query(description="due_date, or SMRP 5.4.11: due + 20% of the interval, at most 28 d"),
    ] = "due_date",
) -> ComplianceReportOut:
    """PM compliance for a month: PM work orders done by their deadline / due, per schedule.

    Each job is judged at its deadline, which with SMRP grace may fall after the month: until
    then it is pending."""
    if who.role not in _OFFICE:
        raise Forbidden(f"role {who.role} cannot see the PM compliance report")
    site = _site(request)
    now = utcnow()
    report = pm.pm_compliance(
        session, site=site, month=_month(site, month, now), now=now, grace=grace
    )
    return ComplianceReportOut.of(report, grace, PM_TARGET_PERCENT)
