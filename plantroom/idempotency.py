"""Idempotency-Key for POST and PATCH: a replayed request gets the first answer, not a second
effect.

Offline tablets queue their changes and replay them when the network returns; a replay whose
first attempt did land (the answer was lost, not the request) must not create a second work
order or a second labor entry. The client sends a unique `Idempotency-Key` with each request;
the first answer under that key is stored for KEEP and replayed for any repeat.

- Keys are per caller (a hash of the bearer token or session cookie), so callers never see each
  other's answers. Anonymous requests (no credentials) are not deduplicated.
- The same key with a different method, path or body is refused with 422: it is a client bug.
- A repeat that arrives while the first is still running gets 409 and should retry shortly.
- Answers of 500 and above are not kept, so a retry after a server fault runs again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plantroom.db import Database
from plantroom.idempotency_models import IdempotencyRecord

HEADER = "idempotency-key"
METHODS = frozenset({"POST", "PATCH"})
#: How long an answer is kept for replay.
KEEP = dt.timedelta(hours=24)
MAX_KEY = 200
#: Response headers stored with the answer and replayed with it.
REPLAYED = frozenset({"content-type", "etag", "location"})
#: Bodies above this are passed through without deduplication (uploads have their own checks).
MAX_BODY = 12 * 1024 * 1024


def _caller(scope: Scope) -> str | None:
    headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
    auth = headers.get("authorization")
    if auth:
        return hashlib.sha256(b"bearer:" + auth).hexdigest()
    cookie = headers.get("cookie")
    if cookie and b"plantroom_session=" in cookie:
        return hashlib.sha256(b"cookie:" + cookie).hexdigest()
    return None


async def _send_json(send: Send, status: int, error: str, message: str) -> None:
    body = json.dumps({"error": error, "message": message, "detail": None}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class IdempotencyMiddleware:
    """ASGI middleware storing and replaying answers to keyed POST/PATCH requests."""

    def __init__(self, app: ASGIApp, db: Database):
        self.app = app
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        raw_key = dict(scope["headers"]).get(HEADER.encode())
        caller = _caller(scope) if raw_key is not None else None
        if raw_key is None or caller is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY or not key.isprintable():
            await _send_json(
                send,
                400,
                "bad_idempotency_key",
                f"Idempotency-Key must be 1-{MAX_KEY} printable characters",
            )
            return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            more = message.get("more_body", False)
            if size > MAX_BODY:
                break
        body = b"".join(chunks)
        if more or size > MAX_BODY:
            await self.app(scope, _replay_receive(body, receive, more), send)
            return

        path = scope["path"] + (
            "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
        )
        fingerprint = hashlib.sha256(body).hexdigest()
        claim = await anyio.to_thread.run_sync(
            self._claim, caller, key, scope["method"], path[:400], fingerprint
        )
        if isinstance(claim, IdempotencyRecord):
            await self._replay(send, claim)
            return
        if claim == "mismatch":
            await _send_json(
                send,
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            )
            return
        if claim == "busy":
            await _send_json(
                send,
                409,
                "idempotency_key_in_use",
                "a request with this Idempotency-Key is still running; retry shortly",
            )
            return

        assert isinstance(claim, int)
        record_id = claim
        start: Message | None = None
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, _replay_receive(body, receive, False), capture)
        finally:
            status = start["status"] if start else 500
            kept = {}
            if start:
                for k, v in start.get("headers", []):
                    name = k.decode("latin-1").lower()
                    if name in REPLAYED:
                        kept[name] = v.decode("latin-1")
            await anyio.to_thread.run_sync(self._finish, record_id, status, kept, b"".join(parts))

    def _claim(
        self, caller: str, key: str, method: str, path: str, fingerprint: str
    ) -> IdempotencyRecord | int | str:
        now = dt.datetime.now(dt.UTC)
        with self.db.session() as s:
            s.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.created_at < now - KEEP, IdempotencyRecord.caller == caller
                )
            )
            row = s.scalars(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
                )
            ).one_or_none()
            if row is None:
                row = IdempotencyRecord(
                    caller=caller,
                    key=key,
                    method=method,
                    path=path,
                    body_hash=fingerprint,
                    status_code=0,
                )
                try:
                    with s.begin_nested():
                        s.add(row)
                        s.flush()
                except IntegrityError:
                    return "busy"
                return row.id
            if (row.method, row.path, row.body_hash) != (method, path, fingerprint):
                return "mismatch"
            if row.status_code == 0:
                return "busy"
            s.expunge(row)
            return row

    def _finish(self, record_id: int, status: int, headers: dict[str, str], body: bytes) -> None:
        with self.db.session() as s:
            row = s.get(IdempotencyRecord, record_id)
            if row is None:
                return
            if status >= 500:
                s.delete(row)
                return
            row.status_code = status
            row.content_type = headers.get("content-type", "")[:100]
            row.headers = headers
            row.body = body

    @staticmethod
    async def _replay(send: Send, row: IdempotencyRecord) -> None:
        body = row.body or b""
        headers = [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
        for name, value in (row.headers or {}).items():
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
        await send({"type": "http.response.start", "status": row.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay_receive(body: bytes, receive: Receive, more: bool) -> Receive:
    """A receive that hands the app the body already read, then the rest of the stream."""
    sent = False

    async def inner() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return inner
