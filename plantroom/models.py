"""Every table module, listed once so Alembic and tests see the whole schema."""

from alerts.models import Alert, NotificationState, RuleState, Silence
from analytics.models import AssetHealthMonthly, CapitalPlanMonthly, KpiMonthly
from analytics.offline.models import MeterReplacement, OfflineEntry
from collectors.leases import CollectorLease
from core.audit import AuditEntry
from core.auth.models import ApiToken, Organisation, UiSession, User
from core.changes import ChangeCounter
from core.db import Base
from core.idempotency_models import IdempotencyRecord
from core.outbox_models import OutboxMessage
from workorders.contractors.models import (
    BreachDispute,
    Complaint,
    MonthSignoff,
    ScorecardReport,
    ScorecardRevision,
)
from workorders.orders.models import (
    Asset,
    Attachment,
    LaborEntry,
    Location,
    OtherCost,
    PartLine,
    WorkOrder,
    WorkOrderEvent,
)
from workorders.sla.notices import SiteNotice
from workorders.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "Alert",
    "ApiToken",
    "Asset",
    "AssetHealthMonthly",
    "Attachment",
    "AuditEntry",
    "Base",
    "BreachDispute",
    "CapitalPlanMonthly",
    "ChangeCounter",
    "CollectorLease",
    "Complaint",
    "IdempotencyRecord",
    "KpiMonthly",
    "LaborEntry",
    "Location",
    "MeterReplacement",
    "MonthSignoff",
    "NotificationState",
    "OfflineEntry",
    "Organisation",
    "OtherCost",
    "OutboxMessage",
    "PartLine",
    "RuleState",
    "ScorecardReport",
    "ScorecardRevision",
    "Silence",
    "SiteNotice",
    "UiSession",
    "User",
    "Webhook",
    "WebhookDelivery",
    "WorkOrder",
    "WorkOrderEvent",
]
