"""REST API for alerts, silences and rules, under /api/v1.

Contractors and requesters see work orders, not alerts: they get 403 everywhere here.
Technicians may read everything and acknowledge alerts; admins and engineers may also create
and expire silences.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from alerts import repository
from alerts.models import Alert, Silence
from alerts.rules import Selector, Severity
from alerts.silences import MAX_SILENCE, InvalidSilence, SilenceIndex, check_silence, rule_assets
from config.site import SiteConfig
from config.units import Duration
from core.auth.deps import role_check
from core.auth.models import Role
from core.auth.service import Principal
from core.db import MAX_ID, CommittingRoute, SessionDep, utcnow
from core.errors import Conflict, NotFound
from core.isotime import instant
from core.jsonbody import JsonBody
from core.pagination import IdCursor, id_cursor, read_id_cursor, split_page

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["alerts"])
READERS = {Role.admin, Role.engineer, Role.technician}
SILENCERS = {Role.admin, Role.engineer}
AlertId = Annotated[int, Path(ge=1, le=MAX_ID, description="alert id")]
SilenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="silence id")]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


#: A point in time with its UTC offset ('2026-05-01T08:00:00+08:00' or '...Z').
if TYPE_CHECKING:
    Instant = dt.datetime
else:
    Instant = instant(1970, 8999, "ISO 8601 with its UTC offset")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _site(request: Request) -> SiteConfig:
    site: SiteConfig = request.app.state.site
    return site


SiteDep = Annotated[SiteConfig, Depends(_site)]


#: Who may do what: each route takes the caller through one of these.
ListAlerts = Annotated[Principal, Depends(role_check(READERS, "list alerts"))]
ReadAlerts = Annotated[Principal, Depends(role_check(READERS, "read alerts"))]
AcknowledgeAlerts = Annotated[Principal, Depends(role_check(READERS, "acknowledge alerts"))]
CreateSilences = Annotated[Principal, Depends(role_check(SILENCERS, "create silences"))]
ListSilences = Annotated[Principal, Depends(role_check(READERS, "list silences"))]
ReadSilences = Annotated[Principal, Depends(role_check(READERS, "read silences"))]
ExpireSilences = Annotated[Principal, Depends(role_check(SILENCERS, "expire silences"))]
ListRules = Annotated[Principal, Depends(role_check(READERS, "list rules"))]
ReadRules = Annotated[Principal, Depends(role_check(READERS, "read rules"))]


# --- alerts -------------------------------------------------------------------------------------


class AlertState(StrEnum):
    """Where an alert is: live (pending, firing, nodata, error) or over (resolved, inactive)."""

    pending = "pending"
    firing = "firing"
    nodata = "nodata"
    error = "error"
    resolved = "resolved"
    inactive = "inactive"


LIVE_STATES = {AlertState.pending, AlertState.firing, AlertState.nodata, AlertState.error}


class AlertOut(BaseModel):
    """An alert instance."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: str
    asset_id: str
    state: AlertState
    severity: str
    point: str
    device: str
    unit: str
    started_at: dt.datetime
    fired_at: dt.datetime | None
    resolved_at: dt.datetime | None
    trigger_value: float | None
    last_value: float | None
    last_ts: dt.datetime | None
    fire_count: int
    workorder_id: int | None
    silence_id: int | None = Field(description="The silence that kept it from opening work")
    inhibited_by: str | None = Field(description="'rule:asset' of the alert that inhibited it")
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    detail: str
    silenced_now: int | None = Field(
        default=None,
        description="A silence in force now that covers it (set by the alert list and the "
        "alert itself; silence_id says which silence kept it from opening work, if any)",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def live(self) -> bool:
        """True while pending, firing, nodata or error."""
        return self.state in LIVE_STATES


class AlertList(BaseModel):
    """A page of alerts, newest first."""

    items: list[AlertOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


def _load_alert(session: SessionDep, alert_id: int) -> Alert:
    alert = repository.get(session, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    return alert


@router.get("/alerts", response_model=AlertList)
def list_alerts(
    session: SessionDep,
    who: ListAlerts,
    site: SiteDep,
    state: Annotated[list[AlertState] | None, Query(description="repeatable")] = None,
    rule_id: Annotated[str | None, Query(max_length=100, pattern=ID_PATTERN)] = None,
    asset_id: Annotated[str | None, Query(max_length=100, pattern=ID_PATTERN)] = None,
    active: Annotated[
        bool | None, Query(description="true: only live alerts; false: only those over")
    ] = None,
    since: Annotated[Instant | None, Query(description="started at or after")] = None,
    until: Annotated[Instant | None, Query(description="started before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: IdCursor = None,
) -> AlertList:
    """Alerts, newest first."""
    rows = repository.list_(
        session,
        states=[str(s) for s in state] if state else None,
        rule_id=rule_id,
        asset_id=asset_id,
        live=active,
        since=since,
        until=until,
        limit=limit + 1,
        before_id=read_id_cursor(cursor),
    )
    page, nxt = split_page(rows, limit, lambda a: id_cursor(a.id))
    return AlertList(items=_with_silences(session, site, page), next_cursor=nxt)


def _with_silences(session: SessionDep, site: SiteConfig, alerts: list[Alert]) -> list[AlertOut]:
    """The alerts' API shapes, each live one with the silence in force now that covers it."""
    out = [AlertOut.model_validate(a) for a in alerts]
    if any(a.live for a in out):
        index = SilenceIndex(site)
        index.load(session, at=utcnow())
        now = utcnow().timestamp()
        for a in out:
            if a.live:
                a.silenced_now = index.match(a.asset_id, a.rule_id, now)
    return out


@router.get("/alerts/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: AlertId, session: SessionDep, who: ReadAlerts, site: SiteDep) -> AlertOut:
    """One alert."""
    return _with_silences(session, site, [_load_alert(session, alert_id)])[0]


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    responses={409: {"description": "the alert is over (resolved or inactive)"}},
)
def acknowledge_alert(alert_id: AlertId, session: SessionDep, who: AcknowledgeAlerts) -> AlertOut:
    """Say someone is on it. Acknowledging again keeps the first acknowledgement."""
    alert = _load_alert(session, alert_id)
    if alert.active_key is not None and alert.acknowledged_at is None:
        repository.acknowledge(session, alert.id, by=who.username, at=utcnow())
        session.refresh(alert)  # the engine may have resolved it meanwhile
    if alert.active_key is None:
        raise Conflict(f"alert is {alert.state}", detail={"state": alert.state})
    return AlertOut.model_validate(alert)


# --- silences -----------------------------------------------------------------------------------


class SilenceCreate(JsonBody):
    """A silence or maintenance window. Give ends_at or duration; starts_at defaults to now.

    At least one criterion is required: a selector list or rule_ids. Every given criterion must
    match; tags match assets having any of them.
    """

    model_config = ConfigDict(extra="forbid")

    selector: Selector = Field(default_factory=Selector)
    rule_ids: list[str] = Field(default_factory=list, max_length=200)
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    duration: Duration | None = Field(
        default=None,
        gt=0,
        le=MAX_SILENCE.total_seconds(),
        description="seconds, or '90m', '2h', '1d'",
    )
    kind: Literal["silence", "maintenance"] = "silence"
    comment: Annotated[str, AfterValidator(_no_nul)] = Field(default="", max_length=2000)


class SilenceOut(BaseModel):
    """A silence and where it stands now."""

    id: int
    selector: Selector
    rule_ids: list[str]
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: Literal["silence", "maintenance"]
    comment: str
    created_by: str
    created_at: dt.datetime
    expired_at: dt.datetime | None
    expired_by: str | None
    status: Literal["scheduled", "active", "expired", "ended"] = Field(
        description="scheduled: starts later; expired: ended early by someone"
    )


class SilenceList(BaseModel):
    """A page of silences, newest first."""

    items: list[SilenceOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


def _silence_status(
    s: Silence, now: dt.datetime
) -> Literal["scheduled", "active", "expired", "ended"]:
    if s.expired_at is not None:
        return "expired"
    if s.ends_at <= now:
        return "ended"
    return "scheduled" if s.starts_at > now else "active"


def _silence_out(s: Silence, now: dt.datetime) -> SilenceOut:
    return SilenceOut(
        id=s.id,
        selector=Selector.model_validate(s.selector or {}),
        rule_ids=list(s.rule_ids or []),
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        kind="maintenance" if s.kind == "maintenance" else "silence",
        comment=s.comment,
        created_by=s.created_by,
        created_at=s.created_at,
        expired_at=s.expired_at,
        expired_by=s.expired_by,
        status=_silence_status(s, now),
    )


def _load_silence(session: SessionDep, silence_id: int) -> Silence:
    s = repository.get_silence(session, silence_id)
    if s is None:
        raise NotFound(f"silence {silence_id} not found")
    return s


@router.post(
    "/silences",
    response_model=SilenceOut,
    status_code=status.HTTP_201_CREATED,
    tags=["silences"],
    responses={422: {"description": "the reason names each field that is wrong"}},
)
def create_silence(
    body: SilenceCreate, session: SessionDep, who: CreateSilences, site: SiteDep
) -> SilenceOut:
    """Silence matching alerts for a while: they are recorded but open no work order."""
    now = utcnow()
    starts_at = body.starts_at or now
    if (body.ends_at is None) == (body.duration is None):
        raise InvalidSilence(
            "ends_at: give either ends_at or duration",
            detail=[{"field": "ends_at", "message": "give either ends_at or duration"}],
        )
    ends_at = body.ends_at or starts_at + dt.timedelta(seconds=body.duration or 0)
    check_silence(
        site,
        selector=body.selector,
        rule_ids=body.rule_ids,
        starts_at=starts_at,
        ends_at=ends_at,
        now=now,
    )
    silence = repository.add_silence(
        session,
        Silence(
            selector=body.selector.model_dump(),
            rule_ids=list(dict.fromkeys(body.rule_ids)),
            starts_at=starts_at,
            ends_at=ends_at,
            kind=body.kind,
            comment=body.comment,
            created_by=who.username,
            created_at=now,
        ),
    )
    return _silence_out(silence, now)


@router.get("/silences", response_model=SilenceList, tags=["silences"])
def list_silences(
    session: SessionDep,
    who: ListSilences,
    active: Annotated[
        bool | None,
        Query(description="true: running and scheduled ones; false: ended or expired ones"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: IdCursor = None,
) -> SilenceList:
    """Silences, newest first."""
    now = utcnow()
    rows = repository.list_silences(
        session,
        current_at=now if active is True else None,
        over_at=now if active is False else None,
        limit=limit + 1,
        before_id=read_id_cursor(cursor),
    )
    page, nxt = split_page(rows, limit, lambda s: id_cursor(s.id))
    return SilenceList(items=[_silence_out(s, now) for s in page], next_cursor=nxt)


@router.get("/silences/{silence_id}", response_model=SilenceOut, tags=["silences"])
def get_silence(silence_id: SilenceId, session: SessionDep, who: ReadSilences) -> SilenceOut:
    """One silence."""
    return _silence_out(_load_silence(session, silence_id), utcnow())


@router.post(
    "/silences/{silence_id}/expire",
    response_model=SilenceOut,
    tags=["silences"],
    responses={409: {"description": "the silence is over already"}},
)
def expire_silence(silence_id: SilenceId, session: SessionDep, who: ExpireSilences) -> SilenceOut:
    """End a silence now (or cancel one still to come)."""
    silence = _load_silence(session, silence_id)
    now = utcnow()
    if not repository.expire_silence(session, silence.id, by=who.username, at=now):
        session.refresh(silence)
        if silence.expired_at is not None:
            reason = f"silence {silence.id} was expired by {silence.expired_by} already"
        else:
            reason = f"silence {silence.id} ended at {silence.ends_at.isoformat()}"
        raise Conflict(reason, detail={"status": _silence_status(silence, now)})
    session.refresh(silence)
    return _silence_out(silence, now)


# --- rules --------------------------------------------------------------------------------------


RuleSummary = Literal["disabled", "ok", "pending", "firing", "nodata", "error"]


class RuleOut(BaseModel):
    """A rule of the site with its live alerts."""

    id: str
    name: str
    name_zh: str | None = Field(default=None, description="The name in Simplified Chinese")
    type: str
    severity: Severity
    point: str
    select: Selector
    description: str
    condition: str = Field(description="What the rule looks for, in words")
    words: dict[str, str] = Field(
        default_factory=dict,
        description="The condition in plain words per language ('en', 'zh-CN'), with the "
        "point's unit",
    )
    level: float | None = Field(
        default=None, description="The level a chart of the point draws as the rule's limit"
    )
    enabled: bool
    assets: list[str] = Field(description="Assets it watches: selected and reading its point")
    state: RuleSummary = Field(
        description="The worst state among its live alerts; ok when it has none"
    )
    live_counts: dict[str, int] = Field(description="Live alerts by state")
    live_alerts: list[AlertOut]
    silenced: bool = Field(description="A silence in force covers every asset it watches")
    silence_ids: list[int] = Field(description="Those silences")


#: Worst first: what a rule's summary state shows when it has live alerts in several states.
_WORST: tuple[RuleSummary, ...] = ("firing", "error", "nodata", "pending")


def _summary(enabled: bool, counts: dict[str, int]) -> RuleSummary:
    if not enabled:
        return "disabled"
    return next((s for s in _WORST if s in counts), "ok")


@router.get("/rules", response_model=list[RuleOut], tags=["rules"])
def list_rules(session: SessionDep, who: ListRules, site: SiteDep) -> list[RuleOut]:
    """Every rule of the site, in site order, with its live alerts and silences."""
    return _rules(session, site)


@router.get("/rules/{rule_id}", response_model=RuleOut, tags=["rules"])
def get_rule(
    rule_id: Annotated[str, Path(max_length=100)],
    session: SessionDep,
    who: ReadRules,
    site: SiteDep,
) -> RuleOut:
    """One rule with its live alerts and silences."""
    for r in _rules(session, site, only=rule_id):
        return r
    raise NotFound(f"rule '{rule_id}' not found")


def _unit_of(site: SiteConfig, point: str) -> str:
    """The unit of a point as the site's profiles read it ('' when none says)."""
    for profile in site.profiles.values():
        for p in profile.points:
            if p.name == point and p.unit:
                return str(p.unit)
    return ""


def _rules(session: SessionDep, site: SiteConfig, only: str | None = None) -> list[RuleOut]:
    rules = [r for r in site.doc.rules if only is None or r.id == only]
    if not rules:
        return []
    live: dict[str, list[Alert]] = {}
    for a in sorted(repository.live(session), key=lambda a: a.id):
        live.setdefault(a.rule_id, []).append(a)
    index = SilenceIndex(site)
    index.load(session)
    now = utcnow().timestamp()
    out = []
    for rule in rules:
        alerts = live.get(rule.id, [])
        counts: dict[str, int] = {}
        for a in alerts:
            counts[a.state] = counts.get(a.state, 0) + 1
        watched = rule_assets(site, rule)
        silences = index.covering_rule(rule.id, watched, now)
        out.append(
            RuleOut(
                id=rule.id,
                name=rule.name,
                name_zh=rule.name_zh,
                type=rule.type,
                severity=rule.severity,
                point=rule.point,
                select=rule.select,
                description=rule.description,
                condition=rule.describe(),
                words=rule.words(_unit_of(site, rule.point)),
                level=rule.level(),
                enabled=rule.enabled,
                assets=watched,
                state=_summary(rule.enabled, counts),
                live_counts=counts,
                live_alerts=[AlertOut.model_validate(a) for a in alerts],
                silenced=bool(silences),
                silence_ids=silences,
            )
        )
    return out
