"""Idempotency-Key after crashes and careless networks (issue 12, items 2 and 3).

- An answer the client saw is always replayed: it is stored before any of it is sent.
- A request that never finished (its process was killed) frees its key after a short lease,
  and at once when the serving process starts.
- The same request sent again compares by content: JSON by value, uploads by fields and file
  bytes (a new multipart boundary each send), forms without their CSRF token.
- The caller is the authenticated person, not the Cookie header.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import Role
from core.db import Database
from core.idempotency import clear_unfinished
from core.idempotency_models import IdempotencyRecord
from plantroom.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.core.auth.accounts import make_user, sign_in
from workorders.orders.models import Attachment, LaborEntry


@pytest.fixture
def db(db_both: Database) -> Iterator[Database]:
    """On SQLite and on PostgreSQL (which, unlike SQLite, holds every column to its length)."""
    yield db_both


AUTH = [(b"authorization", f"Bearer {ADMIN_TOKEN}".encode())]


def png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    raw = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def multipart(boundary: str, data: bytes) -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="leak.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


def new_wo(client: TestClient) -> int:
    r = client.post("/api/v1/workorders", json={"title": "Drip under the chiller"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def records(db: Database) -> list[IdempotencyRecord]:
    with db.session() as s:
        rows = list(s.scalars(select(IdempotencyRecord).order_by(IdempotencyRecord.id)))
        for r in rows:
            s.expunge(r)
        return rows


# --- crashes --------------------------------------------------------------------------------------


def test_an_answer_the_client_saw_is_replayed_even_if_the_server_died_right_after(
    client: TestClient, db: Database
) -> None:
    """The process dies (here: the task is cancelled, so no cleanup of its own runs) the moment
    the last byte of a 201 has gone out. The retry must get that 201, not 409."""
    wo_id = new_wo(client)
    app = client.app
    seen: list[dict[str, Any]] = []
    body = b'{"hours": 2, "rate": 80}'

    async def run() -> None:
        with anyio.CancelScope() as scope:
            sent = False

            async def receive() -> dict[str, Any]:
                nonlocal sent
                if sent:
                    await anyio.sleep_forever()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                seen.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    scope.cancel()  # kill -9: nothing after this point runs
                    await anyio.sleep(0)

            await app(
                {
                    "type": "http",
                    "asgi": {"version": "3.0"},
                    "http_version": "1.1",
                    "method": "POST",
                    "scheme": "http",
                    "path": f"/api/v1/workorders/{wo_id}/labor",
                    "raw_path": f"/api/v1/workorders/{wo_id}/labor".encode(),
                    "query_string": b"",
                    "root_path": "",
                    "headers": [
                        *AUTH,
                        (b"content-type", b"application/json"),
                        (b"idempotency-key", b"tablet-3-0042"),
                    ],
                    "client": ("127.0.0.1", 5000),
                    "server": ("testserver", 80),
                    "app": app,
                    "state": {},
                },
                receive,  # type: ignore[arg-type]
                send,  # type: ignore[arg-type]
            )

    anyio.run(run)
    assert seen[0]["status"] == 201  # the client saw its answer
    r = client.post(
        f"/api/v1/workorders/{wo_id}/labor",
        json={"hours": 2, "rate": 80},
        headers={"Idempotency-Key": "tablet-3-0042"},
    )
    assert r.status_code == 201, r.text
    assert r.headers["Idempotent-Replayed"] == "true"
    with db.session() as s:
        assert len(s.scalars(select(LaborEntry)).all()) == 1


def test_a_key_whose_request_never_finished_is_free_after_the_lease(
    client: TestClient, db: Database
) -> None:
    wo_id = new_wo(client)
    url = f"/api/v1/workorders/{wo_id}/comments"
    headers = {"Idempotency-Key": "tablet-3-0043"}
    first = client.post(url, json={"text": "isolated the valve"}, headers=headers)
    assert first.status_code == 201
    with db.session() as s:  # what a kill -9 mid-request leaves behind
        row = s.scalars(select(IdempotencyRecord)).one()
        row.status_code, row.body = 0, None
        row.key = "tablet-3-0044"
    url2 = url
    r = client.post(
        url2, json={"text": "isolated the valve"}, headers={"Idempotency-Key": "tablet-3-0044"}
    )
    assert r.status_code == 409 and r.json()["error"] == "idempotency_key_in_use"
    with db.session() as s:  # a minute and a bit later
        row = s.scalars(select(IdempotencyRecord)).one()
        row.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=70)
    r = client.post(
        url2, json={"text": "isolated the valve"}, headers={"Idempotency-Key": "tablet-3-0044"}
    )
    assert r.status_code == 201, r.text
    assert [x.status_code for x in records(db)] == [201]


def test_the_serving_process_frees_unfinished_keys_when_it_starts(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    with db.session() as s:
        s.add(IdempotencyRecord(caller="user:1", key="k1", method="POST", path="/x",
                                body_hash="h", status_code=0))  # fmt: skip
        s.add(IdempotencyRecord(caller="user:1", key="k2", method="POST", path="/x",
                                body_hash="h", status_code=201, body=b"{}"))  # fmt: skip
    app = create_app(settings, site=demo_site, db=db, background=True)
    with TestClient(app):
        assert [r.key for r in records(db)] == ["k2"]
    assert clear_unfinished(db) == 0


# --- the same request, sent again -------------------------------------------------------------


def test_the_same_upload_retried_with_a_new_boundary_is_replayed(
    client: TestClient, db: Database
) -> None:
    wo_id = new_wo(client)
    url = f"/api/v1/workorders/{wo_id}/attachments"
    data = png()
    answers = [
        client.post(
            url,
            content=multipart(boundary, data),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Idempotency-Key": "photo-1",
            },
        )
        for boundary in ("----tablet-a1b2", "----tablet-c3d4")
    ]
    assert [a.status_code for a in answers] == [201, 201], answers[1].text
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert answers[0].json() == answers[1].json()
    with db.session() as s:
        assert len(s.scalars(select(Attachment)).all()) == 1
    # other bytes under the same key are another request: refused
    other = client.post(
        url,
        content=multipart("----x", data + b"\x00"),
        headers={
            "Content-Type": "multipart/form-data; boundary=----x",
            "Idempotency-Key": "photo-1",
        },
    )
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"


def test_equivalent_json_with_other_spacing_and_key_order_is_replayed(client: TestClient) -> None:
    wo_id = new_wo(client)
    url = f"/api/v1/workorders/{wo_id}/parts"
    bodies = [
        b'{"part": "seal kit", "quantity": 2, "unit_cost": 12.5}',
        b'{\n  "unit_cost": 12.5,\n  "part": "seal kit",\n  "quantity": 2\n}',
    ]
    answers = [
        client.post(
            url, content=b, headers={"Content-Type": "application/json", "Idempotency-Key": "p-1"}
        )
        for b in bodies
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert len(client.get(f"/api/v1/workorders/{wo_id}").json()["parts"]) == 1


def test_the_caller_is_the_person_not_the_cookie_header(client: TestClient, db: Database) -> None:
    """A tablet acknowledges with a key, loses the answer, toggles the language and signs in
    again (a new Cookie header, a new CSRF token), then replays: it is the same request."""
    make_user(db, "tech", Role.technician, password="tablet-password")
    wo_id = new_wo(client)
    tablet = TestClient(client.app, follow_redirects=False)

    def fresh_sign_in() -> str:
        r = sign_in(tablet, "tech", "tablet-password")
        assert r.status_code == 303, r.text
        page = tablet.get("/ui/").text
        return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]

    csrf = fresh_sign_in()
    form = {"status": "acknowledged"}
    first = tablet.post(
        f"/ui/workorders/{wo_id}/status",
        data={**form, "csrf": csrf},
        headers={"Idempotency-Key": "ui-ack-1"},
    )
    assert first.status_code == 303
    tablet.get("/ui/?lang=zh-CN")
    csrf = fresh_sign_in()
    again = tablet.post(
        f"/ui/workorders/{wo_id}/status",
        data={**form, "csrf": csrf},
        headers={"Idempotency-Key": "ui-ack-1"},
    )
    assert again.status_code == 303
    assert again.headers.get("Idempotent-Replayed") == "true"
    events = client.get(f"/api/v1/workorders/{wo_id}").json()["events"]
    assert [e["data"]["to"] for e in events if e["kind"] == "status"] == ["acknowledged"]


@pytest.mark.parametrize("token", ["", "prt_not-a-real-token"])
def test_requests_without_valid_credentials_are_not_deduplicated(
    client: TestClient, token: str
) -> None:
    anon = TestClient(client.app)
    headers = {"Idempotency-Key": "k", **({"Authorization": f"Bearer {token}"} if token else {})}
    for _ in range(2):
        r = anon.post("/api/v1/workorders", json={"title": "x"}, headers=headers)
        assert r.status_code == 401
        assert "Idempotent-Replayed" not in r.headers
