"""What the alert engine needs from work orders, declared here so that alerts never import them.

workorders.intake implements it (and chooses the SLA policy of what it opens); the root wires
the two together. Every call runs in the engine's session, so an alert's change and the work
order it raises commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Raised:
    """The work order standing for an alert, and whether this alert opened it."""

    id: int
    created: bool


class WorkOrderIntake(Protocol):
    """The door through which alerts raise, link and clear work orders."""

    def raise_for_alert(
        self,
        session: Session,
        *,
        asset_id: str,
        rule_id: str,
        title: str,
        priority: str,
        trigger: dict[str, Any],
        at: dt.datetime,
        type_: str = "corrective",
    ) -> Raised:
        """Open the one work order of (asset, rule), or count a re-fire on the one open."""
        ...

    def open_storm_parent(
        self,
        session: Session,
        *,
        title: str,
        priority: str,
        trigger: dict[str, Any],
        at: dt.datetime,
    ) -> int:
        """Open a parent work order standing for many alerts at once; its id."""
        ...

    def link_to_parent(
        self,
        session: Session,
        parent_id: int,
        *,
        title: str,
        priority: str,
        data: dict[str, Any],
        at: dt.datetime,
    ) -> bool:
        """Count one more alert against a parent; False when the parent no longer exists."""
        ...

    def is_open(self, session: Session, work_order_id: int) -> bool:
        """Whether this work order exists and is still open."""
        ...

    def note_cleared(
        self,
        session: Session,
        *,
        work_order_id: int,
        rule_id: str,
        value: float | None,
        at: dt.datetime,
    ) -> None:
        """Note on the work order that its signal is back in range."""
        ...
