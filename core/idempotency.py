"""Idempotency-Key for POST and PATCH: a replayed request gets the first answer, not a second
effect.

Offline tablets queue their changes and replay them when the network returns; a replay whose
first attempt did land (the answer was lost, not the request) must not create a second work
order or a second labor entry. The client sends a unique `Idempotency-Key` with each request;
the first answer under that key is stored for KEEP and replayed for any repeat.

- Keys are per caller: the authenticated identity (the user behind the bearer token or the
  live signed session), so callers never see each other's answers, and a replay after a fresh
  sign-in or a language toggle (a new Cookie header, the same person) still finds its answer.
  Requests without valid credentials are not deduplicated (they are refused anyway): no
  bearer token or live session, or a session's request without its CSRF token (in the
  X-CSRF-Token header, or a form's `csrf` field). So a refusal for a stale CSRF token is never
  stored, and the retry with the new session's token runs.
- The same key with a different method, path or content is refused with 422: it is a client
  bug. Content is compared as sent, not as bytes: JSON by its parsed value (spacing and key
  order do not matter), forms and uploads by their fields and files' bytes (a new multipart
  boundary on each send does not matter).
- The answer is stored before any of it is sent, so an answer the client saw is always
  replayed, even if the server dies right after sending it.
- A repeat that arrives while the first is still running gets 409 and should retry shortly.
  A request that never finished (the server was killed) holds its key for LEASE at most, and
  the serving process clears such keys when it starts: the retry then runs.
- Answers of 500 and above are not kept, so a retry after a server fault runs again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import AsyncGenerator
from urllib.parse import parse_qsl

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.auth.deps import (
    CSRF_HEADER,
    MAX_TOKEN_LENGTH,
    cookie_session,
    read_session,
    tokens_match,
)
from core.db import Database
from core.errors import AppError
from core.idempotency_models import IdempotencyRecord

log = logging.getLogger(__name__)

HEADER = "idempotency-key"
METHODS = frozenset({"POST", "PATCH"})
#: How long an answer is kept for replay.
KEEP = dt.timedelta(hours=24)
#: How long a request that has not finished holds its key; after that a retry runs it again
#: (its process died). Far longer than any request here takes.
LEASE = dt.timedelta(seconds=60)
MAX_KEY = 200
#: Response headers stored with the answer and replayed with it.
REPLAYED = frozenset({"content-type", "etag", "location"})
#: Form fields that carry a credential, not content: a fresh sign-in changes the CSRF token,
#: and a replay after it is still the same request.
CREDENTIAL_FIELDS = frozenset({"csrf"})
#: Bodies above this are passed through without deduplication (uploads have their own checks).
MAX_BODY = 12 * 1024 * 1024


async def _caller(scope: Scope, form_csrf: str | None) -> str | None:
    """Who is calling, as a key: the user behind a valid bearer token, or behind a live session
    cookie when the request carries the session's CSRF token as its endpoint takes it (the
    X-CSRF-Token header; outside /api/ also the form's field, `form_csrf`); None without valid
    credentials."""
    request = Request(scope)
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        app = scope["app"]
        try:
            who = await app.state.tokens.principal(request, token, app.state.settings.admin_token)
        except AppError:
            return None
        return _key(f"user:{who.user_id}" if who.user_id is not None else f"name:{who.username}")
    if read_session(request) is None:
        return None
    who, csrf = await cookie_session(request)
    # The API takes the token in its header only (core.auth.deps); the UI's forms in a field.
    api = scope["path"].startswith("/api/")
    given = [request.headers.get(CSRF_HEADER), None if api else form_csrf]
    if who is None or who.user_id is None or not any(tokens_match(csrf, g) for g in given if g):
        return None
    return _key(f"user:{who.user_id}")


def _key(identity: str) -> str:
    """The stored form of a caller's identity: fixed length, whatever the username."""
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()


async def _fingerprint(scope: Scope, body: bytes) -> tuple[str, str | None]:
    """A hash of what was sent: JSON by value, forms and uploads by fields and file bytes,
    anything else by its bytes; and a form's CSRF field, if it has one."""
    headers = Headers(scope=scope)
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    canonical: object = None
    csrf: str | None = None
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            canonical = ["json", json.loads(body)]
        except ValueError:
            canonical = None
    elif ctype == "application/x-www-form-urlencoded":
        fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        canonical = ["form", sorted((k, v) for k, v in fields if k not in CREDENTIAL_FIELDS)]
        csrf = next((v for k, v in fields if k == "csrf"), None)
    elif ctype == "multipart/form-data":
        parsed = await _multipart(headers, body)
        if parsed is not None:
            canonical, csrf = parsed
    if canonical is None:
        return hashlib.sha256(b"raw:" + body).hexdigest(), csrf
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), csrf


async def _multipart(headers: Headers, body: bytes) -> tuple[list[object], str | None] | None:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body
        yield b""

    try:
        form = await MultiPartParser(headers, stream(), max_files=100, max_fields=1000).parse()
    except (MultiPartException, ValueError):
        return None
    items: list[object] = []
    csrf: str | None = None
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                digest = hashlib.sha256(data).hexdigest()
                items.append([name, "file", value.filename or "", value.content_type or "", digest])
            elif name not in CREDENTIAL_FIELDS:
                items.append([name, "field", value])
            elif name == "csrf" and csrf is None:
                csrf = value
    finally:
        await form.close()
    return ["multipart", sorted(items, key=lambda i: json.dumps(i, ensure_ascii=False))], csrf


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
        if raw_key is None:
            await self.app(scope, receive, send)
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
        # The body is read first: a form's CSRF field is part of a session caller's credentials.
        fingerprint, form_csrf = await _fingerprint(scope, body)
        caller = await _caller(scope, form_csrf)
        if caller is None:
            await self.app(scope, _replay_receive(body, receive, False), send)
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

        path = scope["path"] + (
            "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
        )
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
        done = False

        async def capture(message: Message) -> None:
            # Nothing reaches the client before the answer is stored: an answer the client saw
            # is always replayable, whatever happens to this process after sending it.
            nonlocal start, done
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            done = True
            assert start is not None
            await anyio.to_thread.run_sync(
                self._finish, record_id, start["status"], _kept(start), b"".join(parts)
            )
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(parts)})

        try:
            await self.app(scope, _replay_receive(body, receive, False), capture)
        finally:
            if not done:  # the app failed before answering: free the key for a retry
                await anyio.to_thread.run_sync(self._finish, record_id, 500, {}, b"")

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
            if row.status_code == 0 and row.created_at < now - LEASE:
                # The first attempt never finished (its process died): this retry runs it.
                log.warning(
                    "Idempotency-Key %r: taking over a request unfinished for %s", key, LEASE
                )
                row.created_at = now
                return row.id
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


def _kept(start: Message) -> dict[str, str]:
    """The response headers replayed with a stored answer."""
    kept = {}
    for k, v in start.get("headers", []):
        name = k.decode("latin-1").lower()
        if name in REPLAYED:
            kept[name] = v.decode("latin-1")
    return kept


def clear_unfinished(db: Database) -> int:
    """Free the keys of requests that never finished (the serving process was killed mid-way);
    call at start, before serving. Returns how many."""
    with db.session() as s:
        result = s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.status_code == 0))
        return int(getattr(result, "rowcount", 0) or 0)


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
