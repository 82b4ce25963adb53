"""The alerts' sections of site.yaml: ``rules`` and ``alerting`` (notifications, storm grouping
and inhibition), with their checks against the topology. The behaviour lives in engine.py and
notify.py; these are the shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.rules import RuleConfig
from alerts.rules.base import Severity
from collectors.site import CollectorsSiteFile
from config.site import Located, SiteConfig
from config.units import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class WebhookTarget(_Strict):
    """POST a JSON document of grouped alert events to a URL."""

    url: str
    #: Only events of this severity or worse.
    min_severity: Severity = Severity.info
    #: Extra HTTP headers, e.g. an Authorization token (values may use ${VAR}).
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = 10.0


class EmailTarget(_Strict):
    """Send grouped alert events by SMTP."""

    host: str
    port: int = 25
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    min_severity: Severity = Severity.info
    timeout: Duration = 10.0


class Notifications(_Strict):
    """Where alert events go, Alertmanager style: events of one group (a building) that arrive
    within group_wait go out together; a group still firing is re-sent every repeat_interval."""

    group_wait: Duration = 30.0
    group_interval: Duration = 300.0
    repeat_interval: Duration = 4 * 3600.0
    webhooks: list[WebhookTarget] = Field(default_factory=list)
    email: list[EmailTarget] = Field(default_factory=list)


class Storm(_Strict):
    """When more than ``threshold`` alerts fire in one building within ``group_wait``, one parent
    work order is opened and the alerts are linked to it, instead of a work order each.

    Alerts wait up to group_wait before their work order is opened, so the window is short by
    default: it adds to the time from a fault to its work order.
    """

    threshold: int = Field(default=20, ge=1)
    group_wait: Duration = 0.0


class Inhibit(_Strict):
    """While an alert of rule ``source`` fires on an asset, the alerts of other rules on assets
    in the same ``scope`` are recorded as inhibited and open no work order: everything behind a
    dead gateway (scope link), or every piece of equipment of a building that lost its main
    power (scope building)."""

    source: str
    scope: Literal["link", "building"]


class Alerting(_Strict):
    """The ``alerting:`` section of site.yaml."""

    notifications: Notifications = Field(default_factory=Notifications)
    storm: Storm = Field(default_factory=Storm)
    inhibit: list[Inhibit] = Field(default_factory=list)


class AlertsSiteFile(CollectorsSiteFile):
    """site.yaml with the alerts' sections."""

    rules: list[RuleConfig] = Field(default_factory=list)
    alerting: Alerting = Field(default_factory=Alerting)

    @classmethod
    def site_problems(cls, site: SiteConfig[Any]) -> list[Located]:
        """Rule ids are unique, and each rule selects classes, assets and a point that exist."""
        out: list[Located] = []
        seen: set[str] = set()
        # A point may live in the missing or broken profile of an asset the rule selects: that
        # profile is reported already.
        unresolved = site.unresolved_assets()
        for ri, rule in enumerate(site.doc.rules):
            if rule.id in seen:
                out.append((("rules", ri, "id"), f"duplicate rule id '{rule.id}'"))
            seen.add(rule.id)
            for ci, c in enumerate(rule.select.asset_class):
                if c not in site.asset_classes:
                    out.append(
                        (("rules", ri, "select", "asset_class", ci), f"no asset has class '{c}'")
                    )
            for ai, aid in enumerate(rule.select.assets):
                if aid not in site.asset_ids:
                    out.append((("rules", ri, "select", "assets", ai), f"unknown asset '{aid}'"))
            maybe = any(
                rule.select.matches(r.asset.id, r.asset.brick_class, r.asset.tags, r.building.id)
                for r in unresolved
            )
            if rule.point not in site.known_points and not maybe:
                out.append(
                    (("rules", ri, "point"), f"no device profile has a point '{rule.point}'")
                )
        return out


#: A site as the alert engine sees it.
AlertsSite = SiteConfig[AlertsSiteFile]
