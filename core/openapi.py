"""The OpenAPI document as the API really behaves.

FastAPI describes every 422 with its own `{"detail": [{"loc", "msg", "type"}]}` shape and no other
error at all. This API answers every error in one shape, `{"error", "message", "detail"}`
(core.errors), and can answer 400, 401, 403, 404, 409, 412, 413, 415, 422 and 503 for
reasons the route signatures do not show: credentials, rows the caller may not see, the
Idempotency-Key and If-Match headers, the database being busy. `install` replaces the generated
document with one that says so, operation by operation:

- every operation: 503 (the database is busy; retry after Retry-After);
- one that needs credentials: 401 (none, or not valid) and 403 (role or scope). It takes a
  bearer token *or* the tablet UI's session cookie: FastAPI lists the two dependencies as one
  requirement (both), so they are split into alternatives (either). One that changes something
  with the cookie also lists the X-CSRF-Token header (403 without the session's token);
- one with path parameters: 404 (no such row, or one the caller may not see);
- one with query parameters or a body: 422 (the request does not validate, with the fields; an
  unknown query parameter is refused too, core.strict_query), and every operation declares
  that it takes no other query parameters;
- POST and PATCH: 400 (a malformed Idempotency-Key), 409 (a conflict with the current state,
  or a request under the same Idempotency-Key still running) and 422 (a business rule refused
  it, or the Idempotency-Key was used for another request); they also list the Idempotency-Key
  header;
- one that honours If-Match: the If-Match header, and 412 when it names an old version;
- a multipart upload: 413 (too large) and 415 (not a type it takes).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from core.concurrency import MAX_IF_MATCH

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every error answer. `error` is a stable code (e.g. not_found, "
    "invalid_request, precondition_failed); `message` says why in words; `detail` carries more "
    "where there is more: for invalid_request a list of {field, message}, one per problem.",
    "required": ["error", "message", "detail"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "detail": {},
    },
}
_REF = {"$ref": "#/components/schemas/Error"}
REASONS = {
    400: "a malformed Idempotency-Key header (1-200 printable characters), an If-Match header "
    "over 200 characters, or a cursor this API did not hand out",
    401: "no bearer token or signed-in session, or one that is not valid (unknown, revoked, "
    "expired, signed out)",
    403: "the caller's role or the token's scopes do not allow this, or a change made with the "
    "session cookie lacks the session's X-CSRF-Token (error csrf_failed)",
    404: "no such resource, or one the caller may not see",
    409: "conflicts with the current state (or a request with the same Idempotency-Key is "
    "still running)",
    412: "If-Match names a version that is no longer current",
    413: "the upload is larger than the limit",
    415: "the upload is not multipart, or not of a type this takes",
    422: "the request does not validate (detail: one {field, message} per problem), or a "
    "business rule refuses it (error says which), or the Idempotency-Key was used for "
    "another request",
    503: "the database is busy; retry after Retry-After",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A unique key per change: a repeat with the same key and the same content "
    "gets the first answer (header Idempotent-Replayed: true) instead of doing it twice.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[ -~]+$"},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag last read: the change is refused with 412 if the work order "
    "changed since.",
    "schema": {"type": "string", "maxLength": MAX_IF_MATCH},
}

#: The security scheme of the tablet UI's session cookie (core.auth.deps).
SESSION_SCHEME = "SessionCookie"
CSRF_TOKEN = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": False,
    "description": "With the session cookie (no Authorization header): the session's CSRF "
    "token, which every request other than GET, HEAD and OPTIONS needs (403 csrf_failed "
    "without it). Ignored with a bearer token.",
    "schema": {"type": "string"},
}


def _error(status: int) -> dict[str, Any]:
    return {"description": REASONS[status], "content": {"application/json": {"schema": _REF}}}


def document(app: FastAPI, base: dict[str, Any]) -> dict[str, Any]:
    """The generated document `base`, with every operation's real answers (see the module)."""
    doc = copy.deepcopy(base)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete", "head"}:
                continue
            _operation(path, method, op)
    return doc


def _operation(path: str, method: str, op: dict[str, Any]) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    params = op.get("parameters", [])
    statuses = {422, 503}  # 422: an unknown query parameter, whatever else it takes
    if op.get("security"):
        statuses |= {401, 403}
        op["security"] = _alternatives(op["security"])
        session = any(SESSION_SCHEME in req for req in op["security"])
        if session and method not in ("get", "head") and not _has(params, "X-CSRF-Token"):
            op.setdefault("parameters", []).append(CSRF_TOKEN)
    if any(p.get("in") == "path" for p in params):
        statuses.add(404)
    if any(p.get("name") == "cursor" for p in params):
        statuses.add(400)  # a cursor this API did not hand out
    if method in ("post", "patch"):
        statuses |= {400, 409, 422}
        if not any(p.get("name") == "Idempotency-Key" for p in params):
            op.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    if method in ("put", "delete"):
        statuses.add(409)
    if_match = any(p.get("in") == "header" and p["name"].lower() == "if-match" for p in params)
    if "412" in responses or if_match:
        statuses.add(412)
        if not if_match:
            op.setdefault("parameters", []).append(IF_MATCH)
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        statuses |= {413, 415}
    for status in sorted(statuses):
        existing = responses.get(str(status))
        if existing is None:
            responses[str(status)] = _error(status)
        else:
            existing.setdefault("description", REASONS[status])
            existing["content"] = {"application/json": {"schema": _REF}}


def _alternatives(security: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Security requirements with every scheme of a requirement as an alternative of its own:
    an operation takes a bearer token or the session cookie, not both."""
    out: list[dict[str, Any]] = []
    for requirement in security:
        for name, scopes in requirement.items():
            if {name: scopes} not in out:
                out.append({name: scopes})
    return out


def _has(params: list[dict[str, Any]], name: str) -> bool:
    return any(p.get("name", "").lower() == name.lower() for p in params)


def install(app: FastAPI) -> None:
    """Serve `document` at /openapi.json, built once on first use."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
