"""A small building with two contractor firms, for the authorization matrix and the API fuzz.

Every role has a user and a bearer token; contractor firms A and B each own a work order on the
same asset (with a checklist, labor, a comment and a photo); a requester owns a request work
order; and there is a location tree, API-made assets, a webhook with a finished delivery, a
silence and a firing alert, so that every endpoint has a real row to be asked about.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from dataclasses import dataclass, field
from typing import Any

import httpx
import segno
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from alerts import repository as alerts_repository
from alerts.models import Alert
from core.auth import service as auth
from core.auth.models import Organisation, Role
from core.db import Database
from tests.conftest import ADMIN_TOKEN
from workorders.webhooks.models import WebhookDelivery

#: Every kind of caller the matrix knows, in the column order of its table.
ROLES = (
    "admin",
    "engineer",
    "technician",
    "contractor_a",
    "contractor_b",
    "requester",
    "readonly",
    "anonymous",
)
#: Each caller's user: its role, its firm ("a", "b" or None) and its token's scopes.
ACCOUNTS: dict[str, tuple[Role, str | None, tuple[str, ...]]] = {
    "admin": (Role.admin, None, ("read", "write", "admin")),
    "engineer": (Role.engineer, None, ("read", "write")),
    "technician": (Role.technician, None, ("read", "write")),
    "contractor_a": (Role.contractor, "a", ("read", "write")),
    "contractor_b": (Role.contractor, "b", ("read", "write")),
    "requester": (Role.requester, None, ("read", "write")),
    # An admin whose token may only read: every write answers 403, admin reads too.
    "readonly": (Role.admin, None, ("read",)),
    # Someone whose account and token the others try to touch.
    "victim": (Role.technician, None, ("read", "write")),
}
#: The work order each caller calls its own, and one it must not see.
OWN_WO = {"contractor_b": "b", "requester": "req"}
FOREIGN_WO = {"contractor_a": "b", "contractor_b": "a", "requester": "a"}
TITLES = {
    "a": "Firm A job: chiller water leak",
    "b": "Firm B job: pump bearing noise",
    "req": "Requester job: draughty door",
}
ASSET = "pump-1"
RULE = "pump-overcurrent"


def png() -> bytes:
    """A real PNG image (a QR code), as a phone would upload a photo."""
    buf = io.BytesIO()
    segno.make_qr("photo").save(buf, kind="png", scale=4)
    return buf.getvalue()


#: Every seeded user's password (for the tablet UI's sign-in).
PASSWORD = "matrix-password-1"


@functools.cache
def _password_hash() -> str:
    """PASSWORD's argon2 hash, made once: each hash costs about half a second."""
    return auth.hash_password(PASSWORD)


def openapi(http: TestClient) -> dict[str, Any]:
    """The OpenAPI document of the app behind a test client."""
    app = http.app
    assert isinstance(app, FastAPI)
    return app.openapi()


@dataclass
class World:
    """The seeded building: who is who, and the ids of everything they are asked about."""

    http: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    spare_tokens: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    wo: dict[str, int] = field(default_factory=dict)
    att: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """Request headers authenticating as role (none for anonymous)."""
        token = ADMIN_TOKEN if role == "env-admin" else self.tokens.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, role: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request as role."""
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kwargs)

    def ok(self, method: str, url: str, status: int, **kwargs: Any) -> Any:
        """A seeding request as the environment's admin token, which must answer status."""
        r = self.call("env-admin", method, url, **kwargs)
        assert r.status_code == status, f"{method} {url}: {r.status_code} {r.text}"
        return r.json() if r.content and "json" in r.headers.get("content-type", "") else None

    def own_wo(self, role: str) -> int:
        """The work order role calls its own (firm A's for the office roles)."""
        return self.wo[OWN_WO.get(role, "a")]

    def foreign_wo(self, role: str) -> int:
        """A work order role must not see."""
        return self.wo[FOREIGN_WO[role]]


def build_world(db: Database, http: TestClient) -> World:
    """Seed the building through the services and the API; see the module docstring."""
    w = World(http=http)
    with db.session() as s:
        firms = {
            "a": auth.create_organisation(s, name="Matrix Firm A", monthly_fee=1000.0),
            "b": auth.create_organisation(s, name="Matrix Firm B", monthly_fee=1000.0),
        }
        s.flush()
        w.orgs = {k: o.id for k, o in firms.items()}
        for role, (kind, firm, scopes) in ACCOUNTS.items():
            org: Organisation | None = firms[firm] if firm else None
            user = auth.create_user(
                s, username=f"mx-{role}", password=None, role=kind, organisation=org
            )
            user.password_hash = _password_hash()
            w.users[role] = user.id
            w.tokens[role] = auth.create_token(s, user=user, name="matrix", scopes=scopes)
            spare, _ = auth.issue_token(s, user=user, name="spare", scopes=["read"])
            w.spare_tokens[role] = spare.id

    sites = w.ok("GET", "/api/v1/locations", 200, params={"kind": "site"})["items"]
    w.ids["site_loc"] = sites[0]["id"]
    for key, name in (("api_loc", "Matrix wing"), ("empty_loc", "Matrix empty hall")):
        body = {"kind": "building", "name": name, "parent_id": w.ids["site_loc"]}
        w.ids[key] = w.ok("POST", "/api/v1/locations", 201, json=body)["id"]
    for asset_id in ("mx-asset", "mx-retire"):
        body = {
            "id": asset_id,
            "name": f"Matrix {asset_id}",
            "brick_class": "Pump",
            "location_id": w.ids["api_loc"],
        }
        w.ok("POST", "/api/v1/assets", 201, json=body)

    hook = w.ok("POST", "/api/v1/webhooks", 201, json={"url": "https://hooks.example.com/mx"})
    w.ids["hook"] = hook["id"]

    for firm in ("a", "b"):
        body = {
            "title": TITLES[firm],
            "asset_id": ASSET,
            "checklist": ["Check the seals"],
            "contractor_id": w.orgs[firm],
        }
        w.wo[firm] = w.ok("POST", "/api/v1/workorders", 201, json=body)["id"]
    body = {"title": TITLES["req"], "asset_id": ASSET}
    r = w.call("requester", "POST", "/api/v1/workorders", json=body)
    assert r.status_code == 201, r.text
    w.wo["req"] = r.json()["id"]
    for key, wo_id in w.wo.items():
        base = f"/api/v1/workorders/{wo_id}"
        w.ok("POST", f"{base}/comments", 201, json={"text": f"seen ({key})"})
        w.ok("POST", f"{base}/labor", 201, json={"hours": 2, "rate": 50 if key == "a" else 70})
        up = w.ok("POST", f"{base}/attachments", 201, files={"file": ("p.png", png(), "image/png")})
        w.att[key] = up["id"]

    delivery = w.ok("POST", f"/api/v1/webhooks/{w.ids['hook']}/test", 202)
    w.ids["delivery"] = delivery["id"]
    silence = {"rule_ids": [RULE], "duration": 3600, "comment": "matrix"}
    w.ids["silence"] = w.ok("POST", "/api/v1/silences", 201, json=silence)["id"]
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        # The delivery gave up, so it may be redelivered (no sender runs in the tests).
        s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == w.ids["delivery"])
            .values(failed_at=now, attempts=5, last_error="matrix")
        )
        alert = Alert(
            rule_id=RULE,
            asset_id=ASSET,
            state="firing",
            active_key=alerts_repository.active_key(RULE, ASSET),
            severity="critical",
            point="current",
            device="pump-1-vfd",
            unit="A",
            started_at=now,
            fired_at=now,
            fire_count=1,
            workorder_id=w.wo["a"],
        )
        s.add(alert)
        s.flush()
        w.ids["alert"] = alert.id
    return w
