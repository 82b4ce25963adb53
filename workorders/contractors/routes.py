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
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from config.site import SiteConfig
from core.auth.deps import CurrentPrincipal
from core.auth.models import Organisation, Role
from core.auth.service import Principal
from core.db import CommittingRoute, SessionDep, utcnow
from core.errors import Forbidden, NotFound
from workorders.contractors import scorecard, xlsx
from workorders.contractors.schemas import (
    BreachList,
    BreachOut,
    ComplianceReportOut,
    ContractorOut,
    PaymentRuleOut,
    ScorecardOut,
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
    return ScorecardOut.of(card, scorecard.TARGET_ON_TIME_PERCENT, revised)


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
        Query(description="the workbook's language; default: from Accept-Language, else en"),
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
    chosen = lang or ("zh-CN" if (accept_language or "").lower().startswith("zh") else "en")
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
    """The targets a contractor missed that fell due in the month, by due time."""
    card = _card(request, session, who, org_id, month)
    return BreachList(
        contractor_id=card.contractor_id,
        month=card.month,
        as_of=card.as_of,
        items=[
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
            )
            for ln, c in card.breaches
        ],
    )


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
