"""The OpenAPI document says what the API really does (issue 12, item 10).

schemathesis drives every operation of /openapi.json with generated requests, valid and
schema-breaking, 50 of each per operation, as three callers (an admin, a technician and a
contractor), and checks every answer with every check it has (ALL_CHECKS): no server error;
each status code, content type and header is one the document lists for the operation; each
body matches the schema documented for its status; schema-breaking requests are refused;
well-formed ones are accepted (2xx, or a documented refusal of the caller or of the state:
400, 401, 403, 404, 409, 412, 415, 422); what a 405 must carry; and the stateful checks
(resources still there, authentication not ignored, no access to other callers' objects).

Why 400, 409, 412, 415 and 422 count as accepting well-formed data: a cursor is opaque, so one
the API did not hand out matches its schema and is refused with 400 bad_cursor; an upload's type
is judged by its bytes, which no schema can state, so random bytes are refused with 415; and a
request can match its schema and still be refused by the state it meets or by a business rule
the schema cannot state (a hold without a reason, a move the work order's status does not
allow, an action time before the work order was created, an If-Match naming an old version).
Those answers are listed per operation in the document, with the error code in their body. What
the schema can state, it states: an empty cursor, a time before 2000, a number for a time, a
null where a value is required and an unknown query parameter are schema-breaking, and are
refused as such (negative_data_rejection).

It makes about 19,000 requests (two minutes), so it is marked slow.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.generation.case import Case

from core.db import Database
from tests.workorders.authz_world import World, build_world

pytestmark = pytest.mark.slow

#: Cases per operation, generation mode and caller.
EXAMPLES = 50
ROLES = ("env-admin", "technician", "contractor_a")
#: Run last: they take the caller's own token or account away from the later operations.
LAST = ("POST /api/v1/tokens/{token_id}/revoke", "POST /api/v1/users/{user_id}/disable")
#: Well-formed requests may still meet these refusals (see the module docstring).
ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "415", "422"]


@pytest.fixture
def world(client: TestClient, db: Database) -> Iterator[World]:
    """The seeded building (tests/workorders/authz_world.py)."""
    with TestClient(client.app, raise_server_exceptions=False) as http:
        yield build_world(db, http)


load_all_checks()
#: Every check schemathesis has, named so that none is left to a default.
ALL_CHECKS = CHECKS.get_all()


def _schema(w: World) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", w.http.app)
    schema.config.checks.positive_data_acceptance.expected_statuses = ACCEPTED
    return schema


def _operations(schema: Any) -> list[Any]:
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: op.label in LAST)


_DOCS: dict[int, dict[str, Any]] = {}


def _text_params(w: World, method: str, path: str) -> set[str]:
    """The query parameters of an operation whose values are text (or lists of text)."""
    doc = _DOCS.get(id(w.http.app))
    if doc is None:
        doc = _DOCS[id(w.http.app)] = w.http.get("/openapi.json").json()
    out = set()
    for param in doc["paths"][path][method.lower()].get("parameters", []):
        if param["in"] != "query":
            continue
        schema = param.get("schema", {})
        kinds = [schema, *schema.get("anyOf", [])]
        kinds += [k.get("items", {}) for k in kinds if k.get("type") == "array"]
        if any(k.get("type") == "string" for k in kinds):
            out.add(param["name"])
    return out


def _typed_as_text(w: World, case: Case) -> bool:
    """Whether the case gives a text query parameter a number or a boolean, which the query
    string turns into text."""
    text = _text_params(w, case.operation.method, case.operation.path)
    for name, value in (case.query or {}).items():
        values = value if isinstance(value, list) else [value]
        if name in text and any(isinstance(v, bool | int | float) for v in values):
            return True
    return False


def _run(w: World, role: str, op: Any, mode: GenerationMode, sent: Counter[str]) -> str | None:
    """EXAMPLES cases of op in mode as role, each answer checked; the first failure, if any."""
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        if failures:
            return
        if any(v == [] for v in (case.query or {}).values()):
            # An empty list sends no parameter at all: what reaches the server is not the case
            # schemathesis judges (a "schema-breaking" month=[] arrives as no month, which is
            # valid), so its checks would judge a request nobody sent.
            return
        if mode is GenerationMode.NEGATIVE and _typed_as_text(w, case):
            # Likewise a number or a boolean for a text parameter: a query string has only
            # text, so building=true arrives as the building named "true", which is valid.
            return
        headers = w.headers(role)
        try:
            response = case.call(headers=headers)
        except Exception:  # a request no client can send (say, a header outside Latin-1)
            return
        sent[role] += 1
        try:
            case.validate_response(response, headers=headers, checks=ALL_CHECKS)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(
                "".join(traceback.format_exception_only(exc))[-3000:]
                + f"\nreproduce: {case.as_curl_command(headers=headers)}"
                + f"\nquery: {case.query!r}, headers: {sorted(case.headers or {})}"
            )

    try:
        run()
    except Exception as exc:  # Unsatisfiable: nothing to break in a negative mode
        if mode is GenerationMode.POSITIVE:
            return f"{type(exc).__name__}: {exc}"
    return failures[0] if failures else None


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_one_the_document_describes(world: World, role: str) -> None:
    schema = _schema(world)
    sent: Counter[str] = Counter()
    failures: dict[str, str] = {}
    for op in _operations(schema):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            found = _run(world, role, op, mode, sent)
            if found:
                failures[f"{op.label} ({mode.value})"] = found
    print(f"\n{role}: {sent[role]} requests, checks: {', '.join(c.__name__ for c in ALL_CHECKS)}")
    assert not failures, "\n\n".join(f"=== {k}\n{v}" for k, v in failures.items())
