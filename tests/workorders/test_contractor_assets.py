"""A contractor reads only the assets its firm has (or had) work on (issue 15), on SQLite and
PostgreSQL: the list, the asset, its history, readings and QR codes, and the page typed into the
address bar; any other asset answers 404 as if it did not exist. Other roles read every asset.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import sign_in
from workorders.orders import service

PATHS = ("", "/history", "/qr.svg", "/qr.png")


def _token(db: Database, username: str, role: Role, firm: str | None = None) -> dict[str, str]:
    with db.session() as s:
        org = auth.get_or_create_organisation(s, firm) if firm else None
        user = auth.create_user(
            s, username=username, password=username + "-pass-1", role=role, organisation=org
        )
        return {"Authorization": f"Bearer {auth.create_token(s, user=user, name='t')}"}


def _give_work(db: Database, firm: str, asset_id: str) -> None:
    with db.session() as s:
        org = auth.get_or_create_organisation(s, firm)
        service.create(s, title="seal", actor="test", asset_id=asset_id, contractor_id=org.id)


def test_a_contractor_reads_only_the_assets_it_has_work_on(
    client: TestClient, db: Database
) -> None:
    hx = _token(db, "ca-hx", Role.contractor, "Huaxia")
    tech = _token(db, "ca-tech", Role.technician)
    _give_work(db, "Huaxia", "pump-1")
    listed = client.get("/api/v1/assets", headers=hx).json()
    assert [a["id"] for a in listed] == ["pump-1"]
    assert len(client.get("/api/v1/assets", headers=tech).json()) > 1
    for tail in PATHS:
        assert client.get(f"/api/v1/assets/pump-1{tail}", headers=hx).status_code == 200, tail
        r = client.get(f"/api/v1/assets/pump-2{tail}", headers=hx)
        assert r.status_code == 404, tail
        assert r.json()["error"] == "not_found"
        # The same answer as an asset that does not exist: nothing to learn from it.
        assert client.get(f"/api/v1/assets/no-such{tail}", headers=hx).status_code == 404
        assert client.get(f"/api/v1/assets/pump-2{tail}", headers=tech).status_code == 200
    params = {"point": "motor_current", "from": "2026-01-01T00:00", "to": "2026-01-01T01:00"}
    r = client.get("/api/v1/assets/pump-2/readings", params=params, headers=hx)
    assert r.status_code == 404


def test_a_contractor_without_work_sees_no_asset_at_all(client: TestClient, db: Database) -> None:
    idle = _token(db, "ca-idle", Role.contractor, "Idle FM")
    assert client.get("/api/v1/assets", headers=idle).json() == []
    assert client.get("/api/v1/assets/pump-1", headers=idle).status_code == 404


def test_the_asset_page_typed_in_answers_404_to_a_contractor_without_work_on_it(
    client: TestClient, db: Database
) -> None:
    _token(db, "ca-page", Role.contractor, "Huaxia")
    _give_work(db, "Huaxia", "pump-1")
    with TestClient(client.app) as ui:
        r = sign_in(ui, "ca-page", "ca-page-pass-1", follow_redirects=False)
        assert r.status_code == 303
        assert ui.get("/ui/assets/pump-1").status_code == 200
        r = ui.get("/ui/assets/pump-2")
        assert r.status_code == 404 and "not yours to see" in r.text
