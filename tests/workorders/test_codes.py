"""Cause and resolution codes (site.yaml ``codes:``): GET /api/v1/codes answers the site's lists
to every signed-in role, and a work order may carry only codes from a configured list (422
naming the field and the codes allowed otherwise), whether resolved or edited."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import Role
from core.db import Database
from plantroom.app import create_app
from tests.workorders.accounts import token_for
from workorders.orders.codes import Codes


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _new(client: TestClient) -> dict[str, Any]:
    r = client.post("/api/v1/workorders", json={"title": "Pump 1 noisy", "asset_id": "pump-1"})
    assert r.status_code == 201, r.text
    return r.json()


def _resolve(client: TestClient, wo_id: int, **codes: str | None) -> Any:
    return client.post(f"/api/v1/workorders/{wo_id}/status", json={"status": "resolved", **codes})


@pytest.fixture
def no_codes_client(settings: Settings, demo_site: SiteConfig, db: Database) -> TestClient:
    """The app over a copy of the demo site that lists no codes."""
    doc = demo_site.doc.model_copy(update={"codes": Codes()})
    site = SiteConfig(path=demo_site.path, doc=doc, profiles=demo_site.profiles)
    app = create_app(settings, site=site, db=db)
    return TestClient(app, headers={"Authorization": "Bearer test-admin-token-" + "x" * 16})


def test_codes_answers_the_sites_lists_in_their_order(
    client: TestClient, demo_site: SiteConfig
) -> None:
    r = client.get("/api/v1/codes")
    assert r.status_code == 200
    codes = demo_site.doc.codes
    assert r.json() == {
        "cause": [c.model_dump() for c in codes.cause],
        "resolution": [c.model_dump() for c in codes.resolution],
    }
    assert r.json()["cause"][0] == {"code": "WEAR", "name": "Wear and tear", "name_zh": "正常磨损"}


@pytest.mark.parametrize("role", [Role.technician, Role.engineer, Role.requester, Role.contractor])
def test_every_signed_in_role_may_read_the_codes(
    client: TestClient, db: Database, role: Role
) -> None:
    org = "Huaxia Property Services" if role is Role.contractor else None
    token = token_for(db, f"u-{role}", role, org=org)
    r = client.get("/api/v1/codes", headers=_bearer(token))
    assert r.status_code == 200
    assert set(r.json()) == {"cause", "resolution"}


def test_codes_need_a_signed_in_caller(client: TestClient) -> None:
    assert client.get("/api/v1/codes", headers={"Authorization": ""}).status_code == 401


def test_a_site_without_codes_answers_empty_lists(no_codes_client: TestClient) -> None:
    with no_codes_client as c:
        assert c.get("/api/v1/codes").json() == {"cause": [], "resolution": []}


def test_resolving_with_the_sites_codes_records_them(client: TestClient) -> None:
    wo = _new(client)
    r = _resolve(client, wo["id"], cause_code="WEAR", resolution_code="REPAIRED")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["cause_code"], r.json()["resolution_code"]) == (
        "resolved",
        "WEAR",
        "REPAIRED",
    )


@pytest.mark.parametrize("field", ["cause_code", "resolution_code"])
def test_resolving_with_a_code_not_in_the_list_answers_422_naming_field_and_codes(
    client: TestClient, demo_site: SiteConfig, field: str
) -> None:
    wo = _new(client)
    good = {"cause_code": "WEAR", "resolution_code": "REPAIRED"}
    r = _resolve(client, wo["id"], **{**good, field: "GLUE"})
    assert r.status_code == 422
    body = r.json()
    kind = field.removesuffix("_code")
    allowed = [c.code for c in getattr(demo_site.doc.codes, kind)]
    assert body["error"] == "unknown_code"
    assert body["detail"] == {"field": field, "value": "GLUE", "allowed": allowed}
    assert field in body["message"] and ", ".join(allowed) in body["message"]
    after = client.get(f"/api/v1/workorders/{wo['id']}").json()
    assert (after["status"], after["version"]) == ("new", wo["version"])


def test_a_status_change_without_codes_is_not_checked(client: TestClient) -> None:
    wo = _new(client)
    r = client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "acknowledged"})
    assert r.status_code == 200


def test_editing_a_code_not_in_the_list_answers_422(client: TestClient) -> None:
    wo = _new(client)
    r = client.patch(f"/api/v1/workorders/{wo['id']}", json={"cause_code": "GREMLINS"})
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "cause_code"
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["cause_code"] is None


def test_editing_to_a_listed_code_or_clearing_it_is_allowed(client: TestClient) -> None:
    wo = _new(client)
    r = client.patch(f"/api/v1/workorders/{wo['id']}", json={"resolution_code": "NO_FAULT"})
    assert r.status_code == 200 and r.json()["resolution_code"] == "NO_FAULT"
    r = client.patch(f"/api/v1/workorders/{wo['id']}", json={"resolution_code": None})
    assert r.status_code == 200 and r.json()["resolution_code"] is None


def test_a_site_without_codes_accepts_any_code(no_codes_client: TestClient) -> None:
    with no_codes_client as c:
        wo = _new(c)
        r = _resolve(c, wo["id"], cause_code="bearing-wear", resolution_code="replaced")
        assert r.status_code == 200
        assert r.json()["cause_code"] == "bearing-wear"
