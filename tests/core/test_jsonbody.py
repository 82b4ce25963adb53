"""Request bodies take JSON as the document types it: no boolean for a number, no string for a
number (core.jsonbody); a field that reads its own input (a duration) keeps doing so."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi.testclient import TestClient
from pydantic import BeforeValidator, Field, ValidationError

from core.auth.models import Role
from core.db import Database
from core.jsonbody import JsonBody
from tests.core.auth.accounts import bearer, make_token, make_user


class Body(JsonBody):
    days: int | None = Field(default=None, ge=1)
    rate: float = 0.0
    flag: bool = False
    name: str = ""
    hours: Annotated[float, BeforeValidator(lambda v: float(str(v).rstrip("h")))] = 0.0


@pytest.mark.parametrize("bad", [{"days": True}, {"days": "5"}, {"rate": False}, {"rate": "1.5"}])
def test_a_boolean_or_a_string_for_a_number_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="expected"):
        Body.model_validate(bad)


def test_what_the_document_allows_is_taken() -> None:
    body = Body.model_validate({"days": 3, "rate": 2, "flag": True, "name": "x", "hours": "2h"})
    assert (body.days, body.rate, body.flag, body.hours) == (3, 2.0, True, 2.0)
    assert Body.model_validate({"days": None}).days is None


def test_the_api_refuses_true_for_a_token_lifetime(client: TestClient, db: Database) -> None:
    mine = bearer(make_token(db, make_user(db, "lin", Role.technician)))
    body = {"name": "tablet", "scopes": ["read"]}
    r = client.post("/api/v1/tokens", json={**body, "expires_in_days": True}, headers=mine)
    assert r.status_code == 422 and "expires_in_days" in r.text
    r = client.post("/api/v1/tokens", json={**body, "expires_in_days": 1}, headers=mine)
    assert r.status_code == 201
