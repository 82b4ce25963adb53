"""API shapes for webhooks and their deliveries."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.jsonbody import JsonBody
from workorders.webhooks.service import EVENTS

_SECRET = r"^[\x21-\x7e]+$"
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host; anything else is refused with the reason."""
    if _CONTROL.search(value):
        raise ValueError("url must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is not a number in range)
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL) as exc:
        raise ValueError(f"url is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("url must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("url must name a host")
    return value


def check_events(value: list[str]) -> list[str]:
    """Known event names without repeats, or ["*"] for all of them."""
    unknown = [e for e in value if e != "*" and e not in EVENTS]
    if unknown:
        raise ValueError(f"unknown events {unknown}; choose from {list(EVENTS)} or ['*']")
    if "*" in value and len(set(value)) > 1:
        raise ValueError("'*' means every event and stands alone")
    return list(dict.fromkeys(value))


class WebhookCreate(JsonBody):
    """A new webhook subscription."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=1000, description="http:// or https:// URL to POST events to")
    events: list[str] = Field(
        default_factory=lambda: ["*"],
        min_length=1,
        max_length=50,
        description=f"Events to send: any of {', '.join(EVENTS)}; or ['*'] for all",
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        pattern=_SECRET,
        description="HMAC key for X-Plantroom-Signature; generated when absent",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[str]) -> list[str]:
        return check_events(v)


class WebhookUpdate(JsonBody):
    """Changes to a webhook; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=1000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=50)
    active: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_url(v)

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else check_events(v)


class WebhookOut(BaseModel):
    """A webhook as the API shows it (never with its secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    """A new webhook, with its secret: shown this once, keep it."""

    secret: str


class WebhookList(BaseModel):
    """Every webhook, oldest first."""

    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    """One event for one webhook and how sending it went."""

    id: int = Field(description="Sent as X-Plantroom-Delivery")
    webhook_id: int
    event: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: dt.datetime | None = Field(description="When it is tried next, if pending")
    delivered_at: dt.datetime | None
    failed_at: dt.datetime | None
    last_status: int | None = Field(description="HTTP status of the last attempt, if any")
    last_error: str
    created_at: dt.datetime
    payload: dict[str, Any]


class DeliveryList(BaseModel):
    """A page of deliveries, newest first."""

    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")
