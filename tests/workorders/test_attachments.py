"""Work-order attachments: upload within limits, type by content, storage, download, scoping."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import segno
from fastapi.testclient import TestClient

from config.settings import Settings
from core import audit
from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from tests.workorders.accounts import token_for as _token
from workorders.attachments import service as attachments
from workorders.orders.models import WorkOrder

LIMIT = attachments.DEFAULT_MAX_BYTES
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16


def _png() -> bytes:
    """A real PNG image (a QR code), as a phone would upload a photo."""
    buf = io.BytesIO()
    segno.make_qr("photo").save(buf, kind="png", scale=4)
    return buf.getvalue()


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The app, attachment routes included."""
    return client


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _wo(api: TestClient, **headers: str) -> int:
    r = api.post("/api/v1/workorders", json={"title": "Leak, B1 pump house"}, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _upload(
    api: TestClient,
    wo_id: int,
    data: bytes,
    name: str = "photo.png",
    ctype: str = "image/png",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return api.post(
        f"/api/v1/workorders/{wo_id}/attachments",
        files={"file": (name, data, ctype)},
        headers=headers or {},
    )


def _stored_files(settings: Settings) -> list[Path]:
    root = attachments.root(settings)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_an_uploaded_photo_is_listed_and_downloads_unchanged(
    api: TestClient, settings: Settings
) -> None:
    wo = _wo(api)
    png = _png()
    r = _upload(api, wo, png, name="pump seal.png")
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["content_type"] == "image/png" and att["size"] == len(png)
    assert att["sha256"] == hashlib.sha256(png).hexdigest()
    assert [a["id"] for a in api.get(f"/api/v1/workorders/{wo}/attachments").json()] == [att["id"]]
    got = api.get(att["url"])
    assert got.status_code == 200 and got.content == png
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == "inline; filename*=utf-8''pump%20seal.png"
    stored = _stored_files(settings)
    assert len(stored) == 1 and stored[0].parent.name == str(wo)
    assert stored[0].suffix == ".png" and "pump" not in stored[0].name


def test_a_pdf_downloads_as_an_attachment_named_for_what_it_is(api: TestClient) -> None:
    wo = _wo(api)
    r = _upload(api, wo, PDF, name="report.bin", ctype="application/octet-stream")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "application/pdf" and r.json()["filename"] == "report.pdf"
    got = api.get(r.json()["url"])
    assert got.headers["content-disposition"] == 'attachment; filename="report.pdf"'


@pytest.mark.parametrize(
    ("data", "ctype"), [(WEBP, "image/webp"), (HEIC, "image/heic")], ids=["webp", "heic"]
)
def test_webp_and_heic_photos_are_accepted(api: TestClient, data: bytes, ctype: str) -> None:
    r = _upload(api, _wo(api), data, name="IMG_0042", ctype="application/octet-stream")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == ctype


def test_the_type_is_judged_by_content_not_by_the_declared_type_or_name(
    api: TestClient, settings: Settings
) -> None:
    wo = _wo(api)
    html = b"<html><script>alert(1)</script></html>"
    r = _upload(api, wo, html, name="photo.png", ctype="image/png")
    assert r.status_code == 415 and r.json()["error"] == "unsupported_type"
    exe = b"MZ\x90\x00" + b"\x00" * 60
    assert _upload(api, wo, exe, name="scan.pdf", ctype="application/pdf").status_code == 415
    assert api.get(f"/api/v1/workorders/{wo}/attachments").json() == []
    assert _stored_files(settings) == []


def test_a_file_over_the_limit_is_refused_413_even_without_content_length(
    api: TestClient, settings: Settings
) -> None:
    wo = _wo(api)
    boundary = "plantroomtestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + b"\x89PNG\r\n\x1a\n"

    def body(size: int) -> Iterator[bytes]:
        # A generator body goes out chunked, with no Content-Length to trust or distrust.
        yield head
        left = size - 8
        while left > 0:
            n = min(left, 1 << 20)
            yield b"\x00" * n
            left -= n
        yield f"\r\n--{boundary}--\r\n".encode()

    ctype = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    url = f"/api/v1/workorders/{wo}/attachments"
    over = api.post(url, content=body(LIMIT + 1), headers=ctype)
    assert over.status_code == 413, over.text
    assert over.json()["detail"] == {"limit_bytes": LIMIT}
    assert _stored_files(settings) == []
    at_limit = api.post(url, content=body(LIMIT), headers=ctype)
    assert at_limit.status_code == 201, at_limit.text
    assert at_limit.json()["size"] == LIMIT


def test_a_declared_length_over_the_limit_is_refused_before_reading(api: TestClient) -> None:
    wo = _wo(api)
    r = api.post(
        f"/api/v1/workorders/{wo}/attachments",
        content=b"--x--\r\n",
        headers={
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(LIMIT * 2),
        },
    )
    assert r.status_code == 413


def test_bodies_without_a_file_are_refused_with_a_reason(api: TestClient) -> None:
    wo = _wo(api)
    url = f"/api/v1/workorders/{wo}/attachments"
    as_json = api.post(url, json={"file": "aGVsbG8="})
    assert as_json.status_code == 415 and "multipart" in as_json.json()["message"]
    no_file = api.post(url, data={"note": "hi"}, files={"other": ("", b"", "text/plain")})
    assert no_file.status_code == 422
    wrong_field = api.post(url, files={"photo": ("a.png", _png(), "image/png")})
    assert wrong_field.status_code == 422 and "'file'" in wrong_field.json()["message"]
    empty = api.post(url, files={"file": ("a.png", b"", "image/png")})
    assert empty.status_code == 422
    broken = api.post(
        url, content=b"garbage", headers={"Content-Type": "multipart/form-data; boundary=zz"}
    )
    assert broken.status_code in (400, 422)


def test_file_names_are_cleaned_but_keep_their_language(api: TestClient) -> None:
    wo = _wo(api)
    # Raw bytes, as a hostile client could send them (httpx would percent-escape them).
    name = "../../etc/泵房 照片\x07;.jpeg".encode()
    body = (
        b'--bb\r\nContent-Disposition: form-data; name="file"; filename="'
        + name
        + b'"\r\nContent-Type: image/jpeg\r\n\r\n'
        + _png()
        + b"\r\n--bb--\r\n"
    )
    r = api.post(
        f"/api/v1/workorders/{wo}/attachments",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=bb"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "泵房 照片_.png"
    got = api.get(r.json()["url"])
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("inline; filename*=utf-8''")
    assert "/" not in disposition.split("''", 1)[1]


def test_attaching_adds_a_timeline_event_and_an_audit_entry(api: TestClient, db: Database) -> None:
    wo = _wo(api)
    att = _upload(api, wo, PDF, name="quote.pdf").json()
    events = api.get(f"/api/v1/workorders/{wo}").json()["events"]
    ev = events[-1]
    assert ev["kind"] == "attachment" and ev["actor"] == "admin-token"
    assert ev["data"]["attachment_id"] == att["id"] and ev["message"] == "quote.pdf"
    with db.session() as s:
        trail = audit.entries(s, entity="work_order", entity_id=wo)
        attach = [e for e in trail if e.action == "attach"]
        assert len(attach) == 1
        assert attach[0].after is not None and attach[0].after["sha256"] == att["sha256"]


def test_a_contractor_gets_404_for_another_firms_attachments(api: TestClient, db: Database) -> None:
    mine_token = _token(db, "c-ever", Role.contractor, "Evergreen")
    with db.session() as s:
        ever = auth.get_or_create_organisation(s, "Evergreen").id
        rival = auth.get_or_create_organisation(s, "Rival FM").id
    ids = {}
    for name, org in (("mine", ever), ("theirs", rival)):
        wo = _wo(api)
        ids[name] = wo
        with db.session() as s:
            row = s.get(WorkOrder, wo)
            assert row is not None
            row.contractor_id = org
    theirs = _upload(api, ids["theirs"], _png()).json()
    c = _as(mine_token)
    assert api.get(f"/api/v1/workorders/{ids['theirs']}/attachments", headers=c).status_code == 404
    assert api.get(theirs["url"], headers=c).status_code == 404
    assert _upload(api, ids["theirs"], _png(), headers=c).status_code == 404
    own = _upload(api, ids["mine"], _png(), headers=c)
    assert own.status_code == 201, own.text
    assert api.get(own.json()["url"], headers=c).status_code == 200
    # An attachment asked for under another work order's id is not found either.
    assert (
        api.get(f"/api/v1/workorders/{ids['mine']}/attachments/{theirs['id']}").status_code == 404
    )


def test_a_requester_attaches_only_to_work_orders_they_raised(
    api: TestClient, db: Database
) -> None:
    req = _as(_token(db, "occupant-desk", Role.requester))
    theirs = _wo(api, **req)
    others = _wo(api)
    assert _upload(api, theirs, _png(), headers=req).status_code == 201
    # A requester cannot even see others' work orders: 404, as for a contractor.
    assert _upload(api, others, _png(), headers=req).status_code == 404
    assert api.get(f"/api/v1/workorders/{others}/attachments", headers=req).status_code == 404


def test_unknown_work_order_or_attachment_is_404(api: TestClient) -> None:
    assert _upload(api, 999_999, _png()).status_code == 404
    wo = _wo(api)
    assert api.get(f"/api/v1/workorders/{wo}/attachments/12345").status_code == 404


def test_sniff_knows_each_allowed_type_by_its_first_bytes() -> None:
    assert attachments.sniff(_png()[:32]) == attachments.PNG
    assert attachments.sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == attachments.JPEG
    assert attachments.sniff(WEBP[:32]) == attachments.WEBP
    assert attachments.sniff(HEIC[:32]) == attachments.HEIC
    assert attachments.sniff(PDF[:32]) == attachments.PDF
    assert attachments.sniff(b"GIF89a") is None
    assert attachments.sniff(b"RIFF\x00\x00\x00\x00WAVE") is None
