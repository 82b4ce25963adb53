"""A contractor's month beyond its figures: disputes of breaches, complaints, and sign-off.

Disputes
    The contractor (a user of the firm) disputes one breached clock of one of its work orders,
    judged in a month, with a reason. An admin accepts it (the breach is excused: it counts in
    neither on-time percentage, so not in the score nor the pay) or rejects it with a note.
    One dispute per breach; a decided one stays decided.

Complaints
    An admin records a complaint against a firm's work, or marks an occupant request (a work
    order of origin 'request') as one; an occupant reporting on the public page may say the
    report is a complaint about work done there, which counts against the firm holding the
    asset's latest work (open, or closed within 30 days). It counts in the site-local month
    it was made (a request: when the occupant reported it), and the payment rule deducts its
    fixed amount per complaint. A complaint recorded by mistake is withdrawn, never deleted.

Sign-off
    An admin signs an ended month off once its disputes are decided: the scorecard then shows
    who and when. Anything that changes the month's figures afterwards (a late dispute
    accepted, a complaint recorded or withdrawn, late-synced changes, a holiday year loaded)
    is recorded as a revision with its reason (scorecard.note_reported), never silently.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from config.site import SiteConfig
from core.auth.models import Organisation, Role
from core.auth.service import Principal
from core.errors import AppError, Conflict, Forbidden, NotFound
from workorders.contractors import repository
from workorders.contractors import scorecard as sc
from workorders.contractors.models import BreachDispute, Complaint, MonthSignoff
from workorders.orders.models import Origin, WorkOrder

CLOCKS = ("response", "resolution")
#: Who an occupant's complaint is recorded by: the public report page has no sign-in.
OCCUPANT = "occupant"


class DisputeNotFound(NotFound):
    """No such dispute of this contractor."""

    def __init__(self, dispute_id: int):
        super().__init__(f"dispute {dispute_id} not found")


class ComplaintNotFound(NotFound):
    """No such complaint against this contractor."""

    def __init__(self, complaint_id: int):
        super().__init__(f"complaint {complaint_id} not found")


class NotABreach(AppError):
    """The clock disputed is not a breach judged in that month."""

    status_code = 422
    error = "not_a_breach"


class BadComplaint(AppError):
    """A complaint naming a work order or request that cannot be it, or made in the future."""

    status_code = 422
    error = "bad_complaint"


def _month(site: SiteConfig, month: str, now: dt.datetime) -> dt.date:
    return sc.parse_month(month, ZoneInfo(site.doc.site.timezone), now)


def _card(
    session: Session, site: SiteConfig, contractor: Organisation, month: dt.date, now: dt.datetime
) -> sc.Scorecard:
    return sc.scorecard(session, site=site, contractor=contractor, month=month, now=now)


def _admin(who: Principal, what: str) -> None:
    if who.role is not Role.admin:
        raise Forbidden(f"only an admin may {what}")


def _revise(
    session: Session,
    *,
    site: SiteConfig,
    contractor: Organisation,
    month: dt.date,
    now: dt.datetime,
    reason: str,
) -> None:
    """Note the month's figures again: a reported month that changed gets a revision."""
    card = _card(session, site, contractor, month, now)
    sc.note_reported(session, card, now=now, site_name=site.doc.site.name, reason=reason)


# --- disputes -----------------------------------------------------------------------------------


def raise_dispute(
    session: Session,
    *,
    site: SiteConfig,
    who: Principal,
    contractor: Organisation,
    month: str,
    workorder_id: int,
    clock: str,
    reason: str,
    now: dt.datetime,
) -> BreachDispute:
    """The contractor disputes one breach of its month: 422 unless that clock of that work order
    is a breach judged in the month, 409 when it was disputed already."""
    if who.role is not Role.contractor or who.organisation_id != contractor.id:
        raise Forbidden("only the contractor's own people may dispute its breaches")
    first = _month(site, month, now)
    label = f"{first:%Y-%m}"
    card = _card(session, site, contractor, first, now)
    if not any(ln.id == workorder_id and c.which == clock for ln, c in card.missed):
        raise NotABreach(
            f"the {clock} clock of work order {workorder_id} is not a breach judged in {label}"
        )
    if repository.dispute_of(session, contractor.id, label, workorder_id, clock) is not None:
        raise Conflict(f"the {clock} breach of work order {workorder_id} is disputed already")
    row = BreachDispute(
        contractor_id=contractor.id,
        month=label,
        workorder_id=workorder_id,
        clock=clock,
        reason=reason.strip(),
        raised_by=who.username,
        raised_at=now,
        status="open",
    )
    repository.add(session, row)
    return row


def decide_dispute(
    session: Session,
    *,
    site: SiteConfig,
    who: Principal,
    contractor: Organisation,
    dispute_id: int,
    accept: bool,
    note: str | None,
    now: dt.datetime,
) -> BreachDispute:
    """An admin accepts (the breach is excused) or rejects a dispute; 409 once decided. An
    accepted dispute of a reported month is recorded as a revision of it."""
    _admin(who, "decide a dispute")
    row = repository.dispute(session, dispute_id)
    if row is None or row.contractor_id != contractor.id:
        raise DisputeNotFound(dispute_id)
    if row.status != "open":
        raise Conflict(f"dispute {dispute_id} was {row.status} already")
    row.status = "accepted" if accept else "rejected"
    row.decided_by, row.decided_at = who.username, now
    row.decision_note = (note or "").strip() or None
    session.flush()
    if accept:
        _revise(
            session,
            site=site,
            contractor=contractor,
            month=_month(site, row.month, now),
            now=now,
            reason=f"dispute {row.id} accepted by {who.username}: the {row.clock} breach of work "
            f"order {row.workorder_id} no longer counts",
        )
    return row


# --- sign-off -----------------------------------------------------------------------------------


def sign_off(
    session: Session,
    *,
    site: SiteConfig,
    who: Principal,
    contractor: Organisation,
    month: str,
    note: str | None,
    now: dt.datetime,
) -> MonthSignoff:
    """An admin signs an ended month off, keeping the figures signed: 409 when the month has
    not ended, was signed off already, or has disputes still open."""
    _admin(who, "sign a month off")
    first = _month(site, month, now)
    label = f"{first:%Y-%m}"
    card = _card(session, site, contractor, first, now)
    if not card.ended:
        raise Conflict(f"{label} has not ended: only an ended month can be signed off")
    if card.signoff is not None:
        raise Conflict(
            f"{label} was signed off by {card.signoff.signed_by} already; later changes show as "
            "revisions"
        )
    still_open = [d.id for d in card.disputes if d.status == "open"]
    if still_open:
        raise Conflict(
            f"{label} has disputes still open ({', '.join(map(str, still_open))}): accept or "
            "reject them first"
        )
    sc.note_reported(session, card, now=now, site_name=site.doc.site.name)
    row = MonthSignoff(
        contractor_id=contractor.id,
        month=label,
        signed_by=who.username,
        signed_at=now,
        note=(note or "").strip() or None,
        figures=sc.figures(card),
    )
    repository.add(session, row)
    return row


# --- complaints ---------------------------------------------------------------------------------


def record_complaint(
    session: Session,
    *,
    site: SiteConfig,
    who: Principal,
    contractor: Organisation,
    text: str,
    workorder_id: int | None = None,
    request_id: int | None = None,
    made_at: dt.datetime | None = None,
    now: dt.datetime,
) -> Complaint:
    """An admin records a complaint against the firm's work, or marks an occupant request as
    one (made when the request was reported); 422 for a work order not the firm's, a request
    that is not an occupant request, or a time in the future; 409 for a request marked
    already."""
    _admin(who, "record a complaint")
    if workorder_id is not None:
        wo = repository.work_order(session, workorder_id)
        if wo is None or wo.contractor_id != contractor.id:
            raise BadComplaint(f"work order {workorder_id} is not work of {contractor.name}")
    if request_id is not None:
        req = repository.work_order(session, request_id)
        if req is None or req.origin != Origin.request.value:
            raise BadComplaint(f"work order {request_id} is not an occupant request")
        if repository.complaint_for_request(session, request_id) is not None:
            raise Conflict(f"occupant request {request_id} is a complaint already")
        made_at = req.created_at
    when = made_at or now
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(site.doc.site.timezone))
    if when > now:
        raise BadComplaint("a complaint cannot be made in the future")
    row = Complaint(
        contractor_id=contractor.id,
        made_at=when,
        text=text.strip(),
        workorder_id=workorder_id,
        request_id=request_id,
        recorded_by=who.username,
        recorded_at=now,
    )
    repository.add(session, row)
    tz = ZoneInfo(site.doc.site.timezone)
    local = when.astimezone(tz)
    _revise(
        session,
        site=site,
        contractor=contractor,
        month=dt.date(local.year, local.month, 1),
        now=now,
        reason=f"complaint {row.id} recorded by {who.username} after the month was reported",
    )
    return row


def withdraw_complaint(
    session: Session,
    *,
    site: SiteConfig,
    who: Principal,
    contractor: Organisation,
    complaint_id: int,
    now: dt.datetime,
) -> Complaint:
    """An admin withdraws a complaint recorded by mistake: it stays listed, and no longer
    counts; 409 when withdrawn already."""
    _admin(who, "withdraw a complaint")
    row = repository.complaint(session, complaint_id)
    if row is None or row.contractor_id != contractor.id:
        raise ComplaintNotFound(complaint_id)
    if row.withdrawn_at is not None:
        raise Conflict(f"complaint {complaint_id} was withdrawn already")
    row.withdrawn_by, row.withdrawn_at = who.username, now
    session.flush()
    local = row.made_at.astimezone(ZoneInfo(site.doc.site.timezone))
    _revise(
        session,
        site=site,
        contractor=contractor,
        month=dt.date(local.year, local.month, 1),
        now=now,
        reason=f"complaint {row.id} withdrawn by {who.username}",
    )
    return row


#: DOMAIN.md, "possible recall": the same asset and problem again within 30 days.
RECALL_WINDOW = dt.timedelta(days=30)


def complaint_from_request(
    session: Session, *, request: WorkOrder, text: str, now: dt.datetime
) -> Complaint | None:
    """An occupant's request they marked as a complaint about work done on the asset: recorded
    against the firm that holds the asset's latest work order (open, or closed within the
    last 30 days), made when it was reported. None when no firm has such work there: the
    office can still mark the request as a complaint against a firm (record_complaint)."""
    if request.asset_id is None:
        return None
    work = repository.latest_firm_work(
        session, request.asset_id, now - RECALL_WINDOW, other_than=request.id
    )
    if work is None or work.contractor_id is None:
        return None
    row = Complaint(
        contractor_id=work.contractor_id,
        made_at=request.created_at,
        text=text.strip()[:2000] or request.title,
        workorder_id=work.id,
        request_id=request.id,
        recorded_by=OCCUPANT,
        recorded_at=now,
    )
    repository.add(session, row)
    return row
