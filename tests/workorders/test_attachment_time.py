"""A photo taken offline keeps the time it was taken: the upload's optional field `at`."""

from __future__ import annotations

import datetime as dt
import io

import segno
from fastapi.testclient import TestClient

from config.settings import Settings
from workorders.attachments import service as attachments


def _png() -> bytes:
    buf = io.BytesIO()
    segno.make_qr("photo").save(buf, kind="png", scale=4)
    return buf.getvalue()


def _wo(client: TestClient) -> int:
    """A work order raised an hour ago (a photo cannot be older than its work order)."""
    raised = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    r = client.post("/api/v1/workorders", json={"title": "Leak, B1 pump house", "at": raised})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _upload(client: TestClient, wo_id: int, at: str | None) -> object:
    data = {"at": at} if at is not None else {}
    return client.post(
        f"/api/v1/workorders/{wo_id}/attachments",
        files={"file": ("pump.png", _png(), "image/png")},
        data=data,
    )


def test_a_photo_synced_late_is_on_the_timeline_at_the_time_it_was_taken(
    client: TestClient,
) -> None:
    wo = _wo(client)
    taken = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=-10)).replace(microsecond=0)
    at = taken.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()
    r = _upload(client, wo, at)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    detail = client.get(f"/api/v1/workorders/{wo}").json()
    [event] = [e for e in detail["events"] if e["kind"] == "attachment"]
    ts = dt.datetime.fromisoformat(event["ts"])
    received = dt.datetime.fromisoformat(event["received_at"])
    assert ts == taken
    assert received > ts  # it reached the server ten minutes after it was taken
    audit = client.get(f"/api/v1/workorders/{wo}/audit").json()
    [entry] = [a for a in audit if a["action"] == "attach"]
    assert dt.datetime.fromisoformat(entry["action_at"]) == taken


def test_a_photo_without_a_time_is_recorded_when_it_arrives(client: TestClient) -> None:
    wo = _wo(client)
    assert _upload(client, wo, None).status_code == 201  # type: ignore[attr-defined]
    detail = client.get(f"/api/v1/workorders/{wo}").json()
    [event] = [e for e in detail["events"] if e["kind"] == "attachment"]
    assert event["received_at"] is None
    audit = client.get(f"/api/v1/workorders/{wo}/audit").json()
    assert [a["action_at"] for a in audit if a["action"] == "attach"] == [None]


def test_a_photo_time_that_is_not_iso_with_an_offset_is_refused_and_nothing_is_kept(
    client: TestClient, settings: Settings
) -> None:
    wo = _wo(client)
    for bad in ("yesterday", "2026-03-01T08:00:00"):
        r = _upload(client, wo, bad)
        assert r.status_code == 422, r.text  # type: ignore[attr-defined]
        assert r.json()["error"] == "bad_upload"  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/workorders/{wo}/attachments").json() == []
    root = attachments.root(settings)
    assert not [p for p in root.rglob("*") if p.is_file()] if root.exists() else True


def test_a_photo_time_ahead_of_the_server_is_refused(client: TestClient) -> None:
    wo = _wo(client)
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    r = _upload(client, wo, ahead)
    assert r.status_code == 422, r.text  # type: ignore[attr-defined]
    assert r.json()["error"] == "action_in_future"  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/workorders/{wo}/attachments").json() == []


def test_an_overlong_text_field_is_a_bad_form_not_a_file_over_the_limit(
    client: TestClient,
) -> None:
    r = client.post(
        f"/api/v1/workorders/{_wo(client)}/attachments",
        files={"file": ("pump.png", _png(), "image/png")},
        data={"note": "x" * 500},
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "bad_upload" and r.json()["detail"] == {"field": "note"}
