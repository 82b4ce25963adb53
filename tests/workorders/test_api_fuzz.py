"""schemathesis against the OpenAPI spec (issue 5, done-when): no 5xx at all.

Every operation of the app's own OpenAPI document is driven three ways, on SQLite and on
PostgreSQL:
- fuzzing: schemathesis generates valid (positive) and schema-breaking (negative) requests
  with Hypothesis, derandomized so that CI sees the same cases each run; about half of the
  cases of an operation with ids in its path name rows the seeded building really has
  (tests/workorders/authz_world.py), so handlers get past the 404. One pass runs as the
  environment's admin token, one as a contractor;
- coverage: schemathesis's deterministic boundary cases for each operation;
- hostile values: random text seldom holds a NUL byte and random times seldom fall where their
  UTC instant leaves the calendar, so each string of a few valid cases, and each string field an
  operation declares, is sent once more with such a value.

The whole contract (every check schemathesis has, for three callers) is tests/
test_openapi_contract.py; this file hunts server errors on both databases, with the hostile
values above. Each case is serialized by schemathesis (as_transport_kwargs), prepared by
requests into the exact bytes schemathesis would send, and sent through Starlette's TestClient
with raise_server_exceptions, so that a server error arrives with its traceback.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.generation.case import Case

from core.db import Database
from tests.core.auth.accounts import sign_in
from tests.workorders.authz_world import ASSET, RULE, World, build_world, openapi

#: Cases per operation and generation mode, for each caller.
EXAMPLES = {"env-admin": 25, "contractor_a": 10}
#: Run last: they can take the caller's own token or account away from the later operations.
LAST = ("POST /api/v1/tokens/{token_id}/revoke", "POST /api/v1/users/{user_id}/disable")
_REQUEST_KEYS = ("method", "url", "headers", "params", "json", "data", "files")
#: Valid cases per operation that the hostile pass takes apart, value by value.
HOSTILE_CASES = 3
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: Times whose offset carries their UTC instant past the ends of Python's calendar.
OUT_OF_RANGE_TIMES = ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00")


@pytest.fixture
def world(client: TestClient, db: Database) -> Iterator[World]:
    """The seeded building, reached through a client that raises the app's own exceptions."""
    with TestClient(client.app, raise_server_exceptions=True) as http:
        yield build_world(db, http)


def _real_rows(w: World) -> dict[str, Any]:
    """Path parameters naming rows that exist (firm A's work order: the contractor's own)."""
    return {
        "wo_id": w.wo["a"],
        "att_id": w.att["a"],
        "index": 0,
        "asset_id": ASSET,
        "location_id": w.ids["api_loc"],
        "alert_id": w.ids["alert"],
        "silence_id": w.ids["silence"],
        "rule_id": RULE,
        "user_id": w.users["victim"],
        "token_id": w.spare_tokens["victim"],
        "org_id": w.orgs["a"],
        "hook_id": w.ids["hook"],
        "delivery_id": w.ids["delivery"],
    }


def _prepare(w: World, role: str, case: Case) -> httpx.Request | None:
    """The request schemathesis would send for case, as role; None when no client could send
    it (a header value outside Latin-1, say), so the server never sees it."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = {**kwargs.get("headers", {}), **w.headers(role)}
    fields = {k: v for k, v in kwargs.items() if k in _REQUEST_KEYS}
    try:
        prepared = requests.Request(**{**fields, "headers": headers}).prepare()
        return w.http.build_request(
            str(prepared.method),
            str(prepared.url),
            headers=dict(prepared.headers),
            content=prepared.body,
        )
    except (requests.RequestException, ValueError, httpx.HTTPError):
        return None


def _fuzz(w: World, role: str, op: Any, mode: GenerationMode, n: int, ran: list[int]) -> None:
    """Run n cases of op in mode; raise the first 5xx or server exception Hypothesis finds."""
    strategy = op.as_strategy(generation_mode=mode)
    path_params = {p.name for p in op.path_parameters}
    if path_params:
        rows = {k: v for k, v in _real_rows(w).items() if k in path_params}
        strategy = st.one_of(strategy, op.as_strategy(generation_mode=mode, path_parameters=rows))

    @settings(
        max_examples=n,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        request = _prepare(w, role, case)
        if request is None:
            reject()
        r = w.http.send(request)
        ran[0] += 1
        assert r.status_code < 500, (
            f"{r.status_code} {r.text[:500]}\nreproduce: {case.as_curl_command()}"
        )

    run()


def _schema(w: World) -> Any:
    return schemathesis.openapi.from_dict(openapi(w.http))


def _operations(schema: Any) -> list[Any]:
    """Every operation of the schema, those in LAST last."""
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: op.label in LAST)


@pytest.mark.slow
@pytest.mark.parametrize("role", list(EXAMPLES))
def test_no_generated_request_gets_a_server_error(world: World, role: str) -> None:
    ops = _operations(_schema(world))
    errors: dict[str, str] = {}
    untested = []
    for op in ops:
        ran = [0]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(world, role, op, mode, EXAMPLES[role], ran)
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise
                # Negative: an operation without parameters or body has nothing to break.
            except Exception as exc:
                errors[f"{op.label} ({mode})"] = "".join(traceback.format_exception(exc))[-4000:]
        if not ran[0]:
            untested.append(op.label)
    assert not errors, "\n\n".join(f"=== {k}\n{v}" for k, v in errors.items())
    assert not untested, f"operations no case reached: {untested}"


@pytest.mark.slow
def test_no_boundary_case_gets_a_server_error(world: World) -> None:
    """schemathesis's coverage phase: for each operation, the deterministic cases at and just
    past every bound of its schema (lengths, ranges, enums, formats, missing and extra fields,
    duplicate query parameters, methods the path does not have)."""
    schema = _schema(world)
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    errors: dict[str, list[str]] = {}
    sent: dict[str, int] = {}
    for op in _operations(schema):
        sent[op.label] = 0
        config = schema.config.generation_for(operation=op)
        for case in schema.iter_coverage_cases(
            op, generation_modes=modes, generation_config=config
        ):
            request = _prepare(world, "env-admin", case)
            if request is None:
                continue
            try:
                r = world.http.send(request)
            except Exception:
                errors.setdefault(op.label, []).append(
                    f"{case.as_curl_command()}\n{traceback.format_exc()[-3000:]}"
                )
                continue
            sent[op.label] += 1
            if r.status_code >= 500:
                errors.setdefault(op.label, []).append(
                    f"{r.status_code} {r.text[:300]}\n{case.as_curl_command()}"
                )
    assert not errors, "\n\n".join(f"=== {k}\n" + "\n".join(v[:3]) for k, v in errors.items())
    unreached = [label for label, n in sent.items() if not n]
    assert not unreached, f"operations no case reached: {unreached}"


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string in a JSON value, with the keys and indexes that lead to it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value = copy.copy(value) if isinstance(value, dict | list) else {}
    if isinstance(value, list) and path[0] >= len(value):
        return value
    value[path[0]] = _replaced(
        value.get(path[0]) if isinstance(value, dict) else value[path[0]], path[1:], new
    )
    return value


def _kinds(schema: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """What a schema admits, of 'string', 'date-time' and 'list' (of strings)."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    kinds: set[str] = set()
    for alt in schema.get("anyOf", [schema]):
        if alt.get("type") == "string":
            kinds.add("date-time" if alt.get("format") == "date-time" else "string")
        elif alt.get("type") == "array" and alt.get("items", {}).get("type") == "string":
            kinds.add("list")
    return kinds


def _declared(document: dict[str, Any], op: Any) -> Iterator[tuple[str, str, set[str]]]:
    """(part, name, kinds) of every string query parameter and top-level JSON body property
    the operation declares, whether or not a generated case happens to carry it."""
    raw = document["paths"][op.path][op.method.lower()]
    components = document.get("components", {}).get("schemas", {})
    for param in raw.get("parameters", []):
        if param["in"] == "query":
            yield "query", param["name"], _kinds(param.get("schema", {}), components)
    body = raw.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = body.get("schema", {}).get("$ref")
    if ref:
        model = components[ref.rsplit("/", 1)[-1]]
        for name, prop in model.get("properties", {}).items():
            yield "body", name, _kinds(prop, components)


def _values(kinds: set[str], current: str = "x") -> list[Any]:
    """The hostile values for a field admitting kinds: a NUL byte, and out-of-range times."""
    out: list[Any] = []
    if kinds & {"string", "date-time"}:
        out.append(current + "\x00")
    if "date-time" in kinds or _DATETIME.match(current):
        out += OUT_OF_RANGE_TIMES
    if "list" in kinds:
        out.append([current + "\x00"])
    return out


def _with(case: Case, part: str, value: Any) -> Case:
    """A copy of case with one part replaced."""
    parts = {"path_parameters": case.path_parameters, "query": case.query, "body": case.body}
    parts[part] = value
    return case.operation.Case(
        method=case.method,
        headers=dict(case.headers or {}),
        media_type=case.media_type,
        **parts,
    )


def _hostile(document: dict[str, Any], case: Case) -> Iterator[tuple[str, Case]]:
    """Copies of a valid case with one value made hostile (see _values): each string it
    carries, and each string field the operation declares. The rest stays valid, so the one
    change is what the handler and the database see."""
    json_body = case.media_type is None or "json" in case.media_type
    carried: set[tuple[str, Any]] = set()
    for part in ("path_parameters", "query", *(["body"] if json_body else [])):
        original = getattr(case, part)
        if not isinstance(original, dict):
            continue
        for path, text in _leaves(original):
            carried.add((part, path[0]))
            for new in _values({"string"}, text):
                mutant = _with(case, part, _replaced(original, path, new))
                yield f"{part}{list(path)}={new!r}", mutant
    for part, name, kinds in _declared(document, case.operation):
        if (part, name) in carried or (part == "body" and not json_body):
            continue
        original = getattr(case, part)
        base = original if isinstance(original, dict) else {}
        for new in _values(kinds):
            yield f"{part}[{name!r}]={new!r}", _with(case, part, {**base, name: new})


def _valid_cases(w: World, op: Any, n: int) -> list[Case]:
    """n valid cases of op, naming real rows in its path."""
    path_params = {p.name for p in op.path_parameters}
    rows = {k: v for k, v in _real_rows(w).items() if k in path_params}
    cases: list[Case] = []

    @settings(
        max_examples=n,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=op.as_strategy(path_parameters=rows or None))
    def collect(case: Case) -> None:
        cases.append(case)

    collect()
    return cases


def test_no_nul_byte_or_out_of_range_time_gets_a_server_error(world: World) -> None:
    """Random text seldom holds a NUL byte, which PostgreSQL's text columns refuse, and random
    times seldom fall in the hours whose UTC instant leaves Python's calendar: so every string
    of a few valid cases of each operation is sent once more with those values."""
    document = openapi(world.http)
    errors: dict[str, list[str]] = {}
    sent = 0
    for op in _operations(_schema(world)):
        for case in _valid_cases(world, op, HOSTILE_CASES):
            for what, mutant in _hostile(document, case):
                request = _prepare(world, "env-admin", mutant)
                if request is None:
                    continue
                sent += 1
                try:
                    r = world.http.send(request)
                except Exception as exc:
                    first = str(exc).splitlines()[0] if str(exc) else ""
                    errors.setdefault(op.label, []).append(
                        f"{what}: {type(exc).__name__}: {first[:120]}"
                    )
                    continue
                if r.status_code >= 500:
                    errors.setdefault(op.label, []).append(f"{what}: {r.status_code}")
    assert sent
    assert not errors, "\n".join(
        f"{label}:\n    " + "\n    ".join(dict.fromkeys(v)) for label, v in errors.items()
    )


def test_a_list_cursor_at_the_ends_of_time_answers_400(client: TestClient) -> None:
    """A cursor is the client's to send back: one naming a time beyond the calendar is a bad
    cursor (400), like any other cursor it did not get from us."""
    plain = TestClient(
        client.app,
        raise_server_exceptions=False,
        headers=dict(client.headers),
    )
    got = {}
    for sort in ("created_at", "-created_at", "updated_at", "-updated_at", "due", "-due"):
        for when in OUT_OF_RANGE_TIMES:
            raw = json.dumps([sort, when, 1]).encode()
            cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            r = plain.get("/api/v1/workorders", params={"sort": sort, "cursor": cursor})
            got[f"sort={sort} time={when}"] = r.status_code
    wrong = {k: v for k, v in got.items() if v != 400}
    assert not wrong, f"not 400: {wrong}"


def test_the_tablet_sign_in_answers_401_to_a_username_with_a_nul_byte(client: TestClient) -> None:
    """The UI's forms are outside the OpenAPI document, so no generated case reaches them."""
    ui = TestClient(client.app, raise_server_exceptions=False)
    r = sign_in(ui, "admin\x00", "whatever-1")
    assert r.status_code == 401
