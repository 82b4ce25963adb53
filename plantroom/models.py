"""Every table module, listed once so Alembic and tests see the whole schema."""

from alerts.models import Alert, RuleState, Silence
from plantroom.audit import AuditEntry
from plantroom.auth.models import ApiToken, Organisation, UiSession, User
from plantroom.changes import ChangeCounter
from plantroom.db import Base
from plantroom.idempotency_models import IdempotencyRecord
from workorders.models import (
    Asset,
    Attachment,
    LaborEntry,
    Location,
    OtherCost,
    PartLine,
    WorkOrder,
    WorkOrderEvent,
)
from workorders.notices import SiteNotice
from workorders.scorecard_models import ScorecardReport, ScorecardRevision
from workorders.sla_notify import NotificationCursor
from workorders.webhook_models import Webhook, WebhookDelivery

__all__ = [
    "Alert",
    "ApiToken",
    "Asset",
    "Attachment",
    "AuditEntry",
    "Base",
    "ChangeCounter",
    "IdempotencyRecord",
    "LaborEntry",
    "Location",
    "NotificationCursor",
    "Organisation",
    "OtherCost",
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
