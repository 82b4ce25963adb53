"""Every table module, listed once so Alembic and tests see the whole schema."""

from alerts.models import Alert, RuleState, Silence
from plantroom.auth.models import ApiToken, Organisation, User
from plantroom.db import Base
from workorders.models import Asset, WorkOrder, WorkOrderEvent

__all__ = [
    "Alert",
    "ApiToken",
    "Asset",
    "Base",
    "Organisation",
    "RuleState",
    "Silence",
    "User",
    "WorkOrder",
    "WorkOrderEvent",
]
