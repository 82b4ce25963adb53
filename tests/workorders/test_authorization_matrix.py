"""Authorization matrix (issue 5, done-when): every role against every endpoint.

The operations come from the app's own OpenAPI document: an endpoint added without a row in
MATRIX fails test_every_api_operation_has_an_authorization_expectation. Each row names the
status every caller gets, in the column order of ROLES:

    admin engineer technician contractor_a contractor_b requester readonly anonymous

'-' means the row does not apply to that caller. `readonly` is an admin whose token holds only
the 'read' scope. Rows on one work order are asked twice where it matters: about the caller's
own work order ('own': firm A's for the office roles, firm B's for contractor B, the
requester's own for the requester) and about one it must not see ('foreign': the other firm's,
firm A's for the requester), which answers 404 as if it did not exist.

The codes were read off the route code (workorders/*routes.py, plantroom/auth/routes.py,
alerts/routes.py). Leaks through lists, search, exports, asset history, attachments, the
tablet UI and the public report page are checked by the tests after the matrix.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.db import Database
from tests.core.auth.accounts import sign_in
from tests.workorders.authz_world import (
    ASSET,
    FOREIGN_WO,
    PASSWORD,
    ROLES,
    RULE,
    TITLES,
    World,
    build_world,
    openapi,
    png,
)
from workorders.orders.repository import SORTS

Ref = Callable[[World, str], Any]
WO = "/api/v1/workorders/{wo_id}"


def _own(w: World, role: str) -> int:
    return w.own_wo(role)


def _foreign(w: World, role: str) -> int:
    return w.foreign_wo(role)


def _own_att(w: World, role: str) -> int:
    return w.att[{"contractor_b": "b", "requester": "req"}.get(role, "a")]


def _foreign_att(w: World, role: str) -> int:
    return w.att[FOREIGN_WO[role]]


def _id(key: str) -> Ref:
    return lambda w, _role: w.ids[key]


def _org(firm: str) -> Ref:
    return lambda w, _role: w.orgs[firm]


def _victim(w: World, _role: str) -> int:
    return w.users["victim"]


def _self(w: World, role: str) -> int:
    return w.users.get(role, w.users["victim"])


def _assignment(w: World, role: str) -> dict[str, Any]:
    """Assign the caller's own work order within its own firm (a contractor to itself)."""
    if role in ("contractor_a", "contractor_b"):
        return {"contractor_id": w.orgs[role[-1]], "assignee_id": w.users[role]}
    return {"contractor_id": w.orgs["a"]}


OWN = {"wo_id": _own, "att_id": _own_att}
FOREIGN = {"wo_id": _foreign, "att_id": _foreign_att}


@dataclass(frozen=True)
class Call:
    """One request the matrix makes as every caller, and the status each must get."""

    method: str
    path: str
    codes: str
    params: Mapping[str, Ref | str] = field(default_factory=dict)
    body: dict[str, Any] | Ref | None = None
    #: Query parameters; a value may be a Ref, resolved per caller like params.
    query: dict[str, Any] | None = None
    upload: bool = False
    label: str = ""

    def expected(self, role: str) -> int | None:
        """The status role must get, or None where the row does not apply."""
        codes = self.codes.split()
        assert len(codes) == len(ROLES), f"{self.method} {self.path}: {len(codes)} codes"
        code = codes[ROLES.index(role)]
        return None if code == "-" else int(code)

    def url(self, w: World, role: str) -> str:
        """The concrete URL for role."""
        values = {k: (v(w, role) if callable(v) else v) for k, v in self.params.items()}
        return self.path.format(**values)

    def send(self, w: World, role: str) -> Any:
        """Make the request as role."""
        kwargs: dict[str, Any] = {}
        if self.body is not None:
            kwargs["json"] = self.body(w, role) if callable(self.body) else self.body
        if self.query:
            kwargs["params"] = {
                k: (v(w, role) if callable(v) else v) for k, v in self.query.items()
            }
        if self.upload:
            kwargs["files"] = {"file": ("matrix.png", png(), "image/png")}
        return w.call(role, self.method, self.url(w, role), **kwargs)


#: Executed in this order by each caller; rows that delete or disable come after the rows that
#: still need the thing.
MATRIX: list[Call] = [
    # --- work orders ------------------------------------------ adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/workorders", "                           200 200 200 200 200 200 200 401"),
    Call("POST", "/api/v1/workorders", "                          201 201 201 403 403 201 403 401",
         body={"title": "Matrix: new job"}),
    Call("GET", "/api/v1/workorders/export.csv", "                200 200 200 200 200 200 200 401"),
    Call("GET", WO, "                                             200 200 200 200 200 200 200 401",
         OWN, label="own"),
    Call("GET", WO, "                                              -   -   - 404 404 404   -   -",
         FOREIGN, label="foreign"),
    Call("PATCH", WO, "                                           200 200 200 200 200 403 403 401",
         OWN, body={"description": "edited by the matrix"}, label="own"),
    Call("PATCH", WO, "                                            -   -   - 404 404 404   -   -",
         FOREIGN, body={"description": "edited by the matrix"}, label="foreign"),
    # A requester may move nothing anywhere: 409 listing no allowed states (issue: 409 + list).
    Call("POST", WO + "/status", "                                200 200 200 200 200 409 403 401",
         OWN, body={"status": "acknowledged"}, label="own"),
    Call("POST", WO + "/status", "                                 -   -   - 404 404 404   -   -",
         FOREIGN, body={"status": "acknowledged"}, label="foreign"),
    Call("POST", WO + "/assign", "                                200 200 403 200 200 403 403 401",
         OWN, body=_assignment, label="own"),
    Call("POST", WO + "/assign", "                                 -   -   - 404 404 404   -   -",
         FOREIGN, body=_assignment, label="foreign"),
    # Contractors and requesters may not take work (403 whatever the work order); the office's
    # own work order is a firm's already (409). tests/workorders/test_take.py takes one.
    Call("POST", WO + "/take", "                                  409 409 409 403 403 403 403 401",
         OWN, body={}, label="own"),
    Call("POST", WO + "/take", "                                   -   -   - 403 403 403   -   -",
         FOREIGN, body={}, label="foreign"),
    Call("POST", WO + "/comments", "                              201 201 201 201 201 201 403 401",
         OWN, body={"text": "matrix comment"}, label="own"),
    Call("POST", WO + "/comments", "                               -   -   - 404 404 404   -   -",
         FOREIGN, body={"text": "matrix comment"}, label="foreign"),
    # Requesters are refused before the id is looked at (403 whatever the work order).
    Call("POST", WO + "/checklist/{index}", "                     200 200 200 200 200 403 403 401",
         {**OWN, "index": "0"}, body={"done": True, "result": "ok"}, label="own"),
    Call("POST", WO + "/checklist/{index}", "                      -   -   - 404 404 403   -   -",
         {**FOREIGN, "index": "0"}, body={"done": True, "result": "ok"}, label="foreign"),
    Call("POST", WO + "/labor", "                                 201 201 201 201 201 403 403 401",
         OWN, body={"hours": 1.5, "rate": 80}, label="own"),
    Call("POST", WO + "/labor", "                                  -   -   - 404 404 403   -   -",
         FOREIGN, body={"hours": 1.5, "rate": 80}, label="foreign"),
    Call("POST", WO + "/parts", "                                 201 201 201 201 201 403 403 401",
         OWN, body={"part": "Seal kit", "quantity": 2, "unit_cost": 15}, label="own"),
    Call("POST", WO + "/parts", "                                  -   -   - 404 404 403   -   -",
         FOREIGN, body={"part": "Seal kit", "quantity": 2, "unit_cost": 15}, label="foreign"),
    Call("POST", WO + "/costs", "                                 201 201 201 201 201 403 403 401",
         OWN, body={"description": "Crane hire", "amount": 300}, label="own"),
    Call("POST", WO + "/costs", "                                  -   -   - 404 404 403   -   -",
         FOREIGN, body={"description": "Crane hire", "amount": 300}, label="foreign"),
    Call("GET", WO + "/audit", "                                  200 200 200 200 200 403 200 401",
         OWN, label="own"),
    Call("GET", WO + "/audit", "                                   -   -   - 404 404 403   -   -",
         FOREIGN, label="foreign"),
    Call("POST", WO + "/attachments", "                           201 201 201 201 201 201 403 401",
         OWN, upload=True, label="own"),
    Call("POST", WO + "/attachments", "                            -   -   - 404 404 404   -   -",
         FOREIGN, upload=True, label="foreign"),
    Call("GET", WO + "/attachments", "                            200 200 200 200 200 200 200 401",
         OWN, label="own"),
    Call("GET", WO + "/attachments", "                             -   -   - 404 404 404   -   -",
         FOREIGN, label="foreign"),
    Call("GET", WO + "/attachments/{att_id}", "                   200 200 200 200 200 200 200 401",
         OWN, label="own"),
    Call("GET", WO + "/attachments/{att_id}", "                    -   -   - 404 404 404   -   -",
         FOREIGN, label="foreign"),
    Call("GET", "/api/v1/codes", "                                200 200 200 200 200 200 200 401"),
    # --- assets and locations --------------------------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/assets", "                               200 200 200 200 200 200 200 401"),
    Call("POST", "/api/v1/assets", "                              201 201 403 403 403 403 403 401",
         body=lambda w, _r: {"id": "mx-new", "name": "New pump", "brick_class": "Pump",
                             "location_id": w.ids["api_loc"]}),
    Call("GET", "/api/v1/assets/{asset_id}", "                    200 200 200 200 200 200 200 401",
         {"asset_id": ASSET}),
    Call("PATCH", "/api/v1/assets/{asset_id}", "                  200 200 403 403 403 403 403 401",
         {"asset_id": "mx-asset"}, body={"name": "Matrix pump, renamed"}),
    Call("GET", "/api/v1/assets/{asset_id}/history", "            200 200 200 200 200 200 200 401",
         {"asset_id": ASSET}),
    # Both firms have a work order on ASSET; a firm without one gets 404 (test_readings_endpoint).
    Call("GET", "/api/v1/assets/{asset_id}/readings", "           200 200 200 200 200 403 200 401",
         {"asset_id": ASSET}, query={"point": "motor_current", "from": "2026-01-01T00:00",
                                     "to": "2026-01-01T01:00"}),
    Call("GET", "/api/v1/assets/{asset_id}/qr.svg", "             200 200 200 200 200 200 200 401",
         {"asset_id": ASSET}),
    Call("GET", "/api/v1/assets/{asset_id}/qr.png", "             200 200 200 200 200 200 200 401",
         {"asset_id": ASSET}),
    # Issue 15: an asset a firm has no work on is 404 to its contractors, by any path.
    *(
        Call("GET", "/api/v1/assets/{asset_id}" + tail, "           -   -   - 404 404   -   -   -",
             {"asset_id": "mx-asset"}, label="no work of the firm")
        for tail in ("", "/history", "/qr.svg", "/qr.png")
    ),
    Call("GET", "/api/v1/assets/{asset_id}/readings", "            -   -   - 404 404   -   -   -",
         {"asset_id": "mx-asset"}, query={"point": "motor_current", "from": "2026-01-01T00:00",
                                          "to": "2026-01-01T01:00"}, label="no work of the firm"),
    Call("DELETE", "/api/v1/assets/{asset_id}", "                 200 200 403 403 403 403 403 401",
         {"asset_id": "mx-retire"}),
    Call("GET", "/api/v1/locations", "                            200 200 200 200 200 200 200 401"),
    Call("POST", "/api/v1/locations", "                           201 201 403 403 403 403 403 401",
         body=lambda w, _r: {"kind": "building", "name": "Matrix annex",
                             "parent_id": w.ids["site_loc"]}),
    Call("GET", "/api/v1/locations/{location_id}", "              200 200 200 200 200 200 200 401",
         {"location_id": _id("api_loc")}),
    Call("PATCH", "/api/v1/locations/{location_id}", "            200 200 403 403 403 403 403 401",
         {"location_id": _id("api_loc")}, body={"name": "Matrix wing, renamed"}),
    Call("DELETE", "/api/v1/locations/{location_id}", "           204 204 403 403 403 403 403 401",
         {"location_id": _id("empty_loc")}),
    # --- alerts, silences, rules: office and technicians only - adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/alerts", "                               200 200 200 403 403 403 200 401"),
    Call("GET", "/api/v1/alerts/{alert_id}", "                    200 200 200 403 403 403 200 401",
         {"alert_id": _id("alert")}),
    Call("POST", "/api/v1/alerts/{alert_id}/acknowledge", "       200 200 200 403 403 403 403 401",
         {"alert_id": _id("alert")}),
    Call("POST", "/api/v1/silences", "                            201 201 403 403 403 403 403 401",
         body={"rule_ids": [RULE], "duration": 600, "comment": "matrix"}),
    Call("GET", "/api/v1/silences", "                             200 200 200 403 403 403 200 401"),
    Call("GET", "/api/v1/silences/{silence_id}", "                200 200 200 403 403 403 200 401",
         {"silence_id": _id("silence")}),
    Call("POST", "/api/v1/silences/{silence_id}/expire", "        200 200 403 403 403 403 403 401",
         {"silence_id": _id("silence")}),
    Call("GET", "/api/v1/rules", "                                200 200 200 403 403 403 200 401"),
    Call("GET", "/api/v1/rules/{rule_id}", "                      200 200 200 403 403 403 200 401",
         {"rule_id": RULE}),
    # --- accounts ---------------------------------------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/me", "                                   200 200 200 200 200 200 200 401"),
    # --- the holiday calendar: any signed-in user -------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/calendar", "                             200 200 200 200 200 200 200 401"),
    Call("GET", "/api/v1/users", "                                200 403 403 403 403 403 403 401"),
    Call("POST", "/api/v1/users", "                               201 403 403 403 403 403 403 401",
         body={"username": "mx-new-user", "role": "technician", "password": "long-enough-1"}),
    Call("GET", "/api/v1/users/{user_id}", "                      200 200 200 200 200 200 200 401",
         {"user_id": _self}, label="self"),
    Call("GET", "/api/v1/users/{user_id}", "                      200 404 404 404 404 404 404 401",
         {"user_id": _victim}, label="someone else"),
    Call("GET", "/api/v1/tokens", "                               200 200 200 200 200 200 200 401"),
    Call("POST", "/api/v1/tokens", "                              201 201 201 201 201 201 403 401",
         body={"name": "matrix", "scopes": ["read"]}),
    Call("POST", "/api/v1/tokens/{token_id}/revoke", "            200 200 200 200 200 200 403 401",
         {"token_id": lambda w, r: w.spare_tokens.get(r, w.spare_tokens["victim"])},
         label="own spare token"),
    Call("POST", "/api/v1/tokens/{token_id}/revoke", "            200 404 404 404 404 404 403 401",
         {"token_id": lambda w, _r: w.spare_tokens["victim"]}, label="someone else's token"),
    Call("POST", "/api/v1/users/{user_id}/password", "            200 200 200 200 200 200 403 401",
         {"user_id": _self}, label="own, with the current one",
         body={"current_password": PASSWORD, "new_password": PASSWORD}),
    Call("POST", "/api/v1/users/{user_id}/password", "            200 404 404 404 404 404 403 401",
         {"user_id": _victim}, label="someone else's", body={"new_password": PASSWORD}),
    Call("POST", "/api/v1/users/{user_id}/disable", "             200 403 403 403 403 403 403 401",
         {"user_id": _victim}),
    Call("GET", "/api/v1/organisations", "                        200 403 403 403 403 403 403 401"),
    Call("POST", "/api/v1/organisations", "                       201 403 403 403 403 403 403 401",
         body={"name": "Matrix Firm C"}),
    # --- contractors: a firm sees only itself ------------------ adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/contractors", "                          200 200 403 200 200 403 200 401"),
    *(
        Call("GET", "/api/v1/contractors/{org_id}/" + tail, codes, {"org_id": _org(firm)},
             label=f"firm {firm.upper()}")
        for tail in ("scorecard", "scorecard.csv", "scorecard.xlsx", "sla-breaches")
        for firm, codes in (
            ("a", "                                               200 200 403 200 404 403 200 401"),
            ("b", "                                               200 200 403 404 200 403 200 401"),
        )
    ),
    Call("GET", "/api/v1/reports/pm-compliance", "                200 200 403 403 403 403 200 401"),
    # --- webhooks: admins with the admin scope ----------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/webhooks", "                             200 403 403 403 403 403 403 401"),
    Call("POST", "/api/v1/webhooks", "                            201 403 403 403 403 403 403 401",
         body={"url": "https://hooks.example.com/matrix"}),
    Call("GET", "/api/v1/webhooks/{hook_id}", "                   200 403 403 403 403 403 403 401",
         {"hook_id": _id("hook")}),
    Call("PATCH", "/api/v1/webhooks/{hook_id}", "                 200 403 403 403 403 403 403 401",
         {"hook_id": _id("hook")}, body={"events": ["*"]}),
    Call("GET", "/api/v1/webhooks/{hook_id}/deliveries", "        200 403 403 403 403 403 403 401",
         {"hook_id": _id("hook")}),
    Call("POST", "/api/v1/webhooks/{hook_id}/deliveries/{delivery_id}/redeliver",
         "                                                        202 403 403 403 403 403 403 401",
         {"hook_id": _id("hook"), "delivery_id": _id("delivery")}),
    Call("POST", "/api/v1/webhooks/{hook_id}/test", "             202 403 403 403 403 403 403 401",
         {"hook_id": _id("hook")}),
    Call("DELETE", "/api/v1/webhooks/{hook_id}", "                204 403 403 403 403 403 403 401",
         {"hook_id": _id("hook")}),
    # --- admin: the office's work orders, people and access (issue 15) ----------------------
    # ----------------------------------------------------------- adm eng tec cA  cB  req ro  anon
    Call("POST", "/api/v1/workorders/bulk-assign", "              200 200 403 403 403 403 403 401",
         body=lambda w, _r: {"ids": [w.wo["a"]], "contractor_id": w.orgs["a"]}),
    # The role is checked first, so a contractor learns nothing of the id; the office's own work
    # order is open, so it does not reopen (409; tests/workorders/test_office_api.py reopens).
    Call("POST", WO + "/reopen", "                                409 409 403 403 403 403 403 401",
         OWN, body={"note": "matrix"}, label="own"),
    Call("POST", WO + "/reopen", "                                 -   -   - 403 403 403   -   -",
         FOREIGN, body={"note": "matrix"}, label="foreign"),
    Call("GET", "/api/v1/assignees", "                            200 200 403 403 403 403 200 401"),
    Call("PATCH", "/api/v1/users/{user_id}", "                    200 403 403 403 403 403 403 401",
         {"user_id": _victim}, body={"display_name": "Matrix victim"}),
    Call("POST", "/api/v1/users/{user_id}/enable", "              200 403 403 403 403 403 403 401",
         {"user_id": _victim}),
    Call("POST", "/api/v1/users/{user_id}/tokens", "              201 403 403 403 403 403 403 401",
         {"user_id": lambda w, _r: w.users["technician"]}, body={"name": "mx", "scopes": ["read"]}),
    Call("PATCH", "/api/v1/organisations/{org_id}", "             200 403 403 403 403 403 403 401",
         {"org_id": _org("a")}, body={"monthly_fee": 1000.0}),
    # --- overview: the office's figures and collector health (issue 15) --------------------
    # ----------------------------------------------------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/overview", "                             200 200 403 403 403 403 200 401"),
    Call("GET", "/api/v1/overview/collectors", "                  200 200 403 403 403 403 200 401"),
    # --- contractor: disputes, sign-off, complaints (issue 15) -------------------------------
    # A firm sees only itself (404 for the other); technicians and requesters none (403). Only
    # the firm's own people dispute (an admin 403); only admins decide, sign off and record
    # complaints. The matrix's firms have no breach in 2026-01 (422 to dispute one) and no
    # dispute 999999 (404 to the admin). tests/workorders/test_disputes.py has the rest.
    # ----------------------------------------------------------- adm eng tec cA  cB  req ro  anon
    *(
        Call("GET", "/api/v1/contractors/{org_id}/" + tail, codes, {"org_id": _org("a")},
             label="firm A")
        for tail in ("disputes", "complaints")
        for codes in ("                                           200 200 403 200 404 403 200 401",)
    ),
    Call("POST", "/api/v1/contractors/{org_id}/disputes", "       403 403 403 422 404 403 403 401",
         {"org_id": _org("a")}, label="firm A, no such breach",
         body=lambda w, _r: {"month": "2026-01", "workorder_id": w.wo["a"], "clock": "response",
                             "reason": "matrix"}),
    Call("POST", "/api/v1/contractors/{org_id}/disputes/{dispute_id}/accept",
         "                                                        404 403 403 403 404 403 403 401",
         {"org_id": _org("a"), "dispute_id": "999999"}, body={}, label="no such dispute"),
    Call("POST", "/api/v1/contractors/{org_id}/disputes/{dispute_id}/reject",
         "                                                        404 403 403 403 404 403 403 401",
         {"org_id": _org("a"), "dispute_id": "999999"}, body={"note": "matrix"},
         label="no such dispute"),
    Call("POST", "/api/v1/contractors/{org_id}/signoff", "        201 403 403 403 404 403 403 401",
         {"org_id": _org("a")}, body={"month": "2026-01"}, label="firm A"),
    Call("POST", "/api/v1/contractors/{org_id}/complaints", "     201 403 403 403 404 403 403 401",
         {"org_id": _org("a")}, body={"text": "matrix complaint"}, label="firm A"),
    Call("POST", "/api/v1/contractors/{org_id}/complaints/{complaint_id}/withdraw",
         "                                                        200 403 403 403 404 403 403 401",
         {"org_id": _org("a"), "complaint_id": lambda w, _r: w.ok(
             "POST", f"/api/v1/contractors/{w.orgs['a']}/complaints", 201,
             json={"text": "to withdraw"})["id"]}, label="firm A"),
    # --- plant: the PM calendar, an asset's schedules and plant facts (issue 15) -------------
    # The calendar is the office's; the crew may read an asset's schedules too. Plant facts are
    # read like the asset: a requester never, a contractor only where its firm has work (both
    # firms have work on ASSET, none on mx-asset: 404 as for the asset itself).
    # ----------------------------------------------------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/pm/calendar", "                          200 200 403 403 403 403 200 401",
         query={"month": "2026-01"}),
    Call("GET", "/api/v1/pm/schedules", "                         200 200 200 403 403 403 200 401",
         query={"asset_id": ASSET}),
    Call("GET", "/api/v1/assets/{asset_id}/plant", "              200 200 200 200 200 403 200 401",
         {"asset_id": ASSET}, label="firms' work"),
    Call("GET", "/api/v1/assets/{asset_id}/plant", "              200 200 200 404 404 403 200 401",
         {"asset_id": "mx-asset"}, label="no work of the firms"),
    # --- analytics: meters, balance, offline meters (issue 16): the office only -------------
    # ----------------------------------------------------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/analytics/meters", "                     200 200 403 403 403 403 200 401",
         query={"from": "2026-01-01", "to": "2026-01-03"}),
    Call("GET", "/api/v1/analytics/meters/{meter_id}/balance", "  200 200 403 403 403 403 200 401",
         {"meter_id": "a-main"}, query={"from": "2026-01-01", "to": "2026-01-03"}),
    Call("GET", "/api/v1/analytics/meters/{meter_id}/replacements",
         "                                                        200 200 403 403 403 403 200 401",
         {"meter_id": "a-main"}),
    Call("POST", "/api/v1/analytics/meters/{meter_id}/replacements",
         "                                                        201 201 403 403 403 403 403 401",
         {"meter_id": "a-main"},
         body={"at": "2026-01-15T12:00:00", "old_final": 100, "new_initial": 0}),
    Call("GET", "/api/v1/analytics/offline/{meter_id}/entries",
         "                                                        200 200 403 403 403 403 200 401",
         {"meter_id": "gas-canteen"}),
    Call("POST", "/api/v1/analytics/offline/{meter_id}/entries",
         "                                                        201 201 403 403 403 403 403 401",
         {"meter_id": "gas-canteen"},
         body={"from": "2026-01-01", "to": "2026-02-01", "amount": 100, "unit": "m3"}),
    Call("DELETE", "/api/v1/analytics/offline/{meter_id}/entries/{entry_id}",
         "                                                        404 404 403 403 403 403 403 401",
         {"meter_id": "gas-canteen", "entry_id": "999999"}, label="no such entry"),
    Call("POST", "/api/v1/analytics/offline/import", "            422 422 403 403 403 403 403 401",
         upload=True, label="a PNG is no CSV"),
    Call("GET", "/api/v1/analytics/energy", "                     200 200 403 403 403 403 200 401",
         query={"year": "2026", "month": "1"}),
    Call("GET", "/api/v1/analytics/baselines/{meter_id}", "      422 422 403 403 403 403 422 401",
         {"meter_id": "a-main"}, query={"from": "2026-01-01", "to": "2026-03-01"},
         label="no figures to fit"),
    # --- analytics: maintenance KPIs (issue 17): the office, and a contractor its own firm ----
    # ----------------------------------------------------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/analytics/kpis", "                       200 200 403 200 200 403 200 401",
         query={"month": "2026-01"}, label="own firm"),
    Call("GET", "/api/v1/analytics/kpis", "                       200 200 403 200 403 403 200 401",
         query={"month": "2026-01", "contractor": _org("a")}, label="firm A's"),
    # --- analytics: asset health and the capital plan (issue 17): the office only ------------
    # ----------------------------------------------------------- adm eng tec cA  cB  req ro  anon
    Call("GET", "/api/v1/analytics/assets/{asset_id}/health",
         "                                                        200 200 403 403 403 403 200 401",
         {"asset_id": ASSET}),
    Call("GET", "/api/v1/analytics/capital-plan", "               200 200 403 403 403 403 200 401"),
    # --- health: no credentials needed --------------------------- adm eng tec cA  cB  req ro  anon
    # /metrics needs an admin or a 'metrics' token (none of the others holds one); no collector
    # runs in the API process here, so the admins (the read-only token is an admin's) get 404.
    Call("GET", "/metrics", "                                     404 403 403 403 403 403 404 401"),
    Call("GET", "/health", "                                      200 200 200 200 200 200 200 200"),
]  # fmt: skip


@pytest.fixture
def world(client: TestClient, db: Database) -> Iterator[World]:
    """The seeded building, reached through a client without preset credentials."""
    with TestClient(client.app) as http:
        yield build_world(db, http)


def _fingerprint(w: World, wo_id: int) -> dict[str, Any]:
    """What a change to a work order would show, as the admin sees it."""
    wo = w.call("env-admin", "GET", f"/api/v1/workorders/{wo_id}").json()
    atts = w.call("env-admin", "GET", f"/api/v1/workorders/{wo_id}/attachments").json()
    return {
        "version": wo["version"],
        "status": wo["status"],
        "contractor_id": wo["contractor_id"],
        "assignee_id": wo["assignee_id"],
        "description": wo["description"],
        "events": len(wo["events"]),
        "costs": wo["cost_totals"],
        "checklist": wo["checklist"],
        "attachments": len(atts),
    }


def _listed(w: World, role: str, **params: Any) -> list[dict[str, Any]]:
    """Every work order of a list as role, following the cursor to the end (one per page)."""
    items: list[dict[str, Any]] = []
    params = {"limit": 1, **params}
    while True:
        r = w.call(role, "GET", "/api/v1/workorders", params=params)
        assert r.status_code == 200, f"{params}: {r.status_code} {r.text}"
        page = r.json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        params = {**params, "cursor": page["next_cursor"]}


def _csv_ids(text: str) -> set[int]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    return {int(r["id"]) for r in rows}


# --- the matrix -------------------------------------------------------------------------------


def test_every_api_operation_has_an_authorization_expectation(client: TestClient) -> None:
    documented = {
        (method.upper(), path) for path, ops in openapi(client)["paths"].items() for method in ops
    }
    covered = {(c.method, c.path) for c in MATRIX}
    missing = sorted(documented - covered)
    assert not missing, "\n".join(
        f"endpoint {m} {p} has no authorization expectation; add a row to MATRIX in "
        "tests/workorders/test_authorization_matrix.py"
        for m, p in missing
    )
    stale = sorted(covered - documented)
    assert not stale, f"MATRIX rows for operations the API no longer has: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_from_every_endpoint(world: World, role: str) -> None:
    foreign = FOREIGN_WO.get(role)
    before = _fingerprint(world, world.wo[foreign]) if foreign else None
    wrong = []
    for call in MATRIX:
        want = call.expected(role)
        if want is None:
            continue
        r = call.send(world, role)
        if r.status_code != want:
            what = f"{call.method} {call.url(world, role)}" + (
                f" ({call.label})" if call.label else ""
            )
            wrong.append(f"{what}: expected {want}, got {r.status_code} {r.text[:160]}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
    if foreign:
        assert _fingerprint(world, world.wo[foreign]) == before, (
            f"{role}'s refused calls changed the work order it may not see"
        )


# --- nothing of another firm leaks ------------------------------------------------------------


def _list_variants(w: World) -> list[dict[str, Any]]:
    """Every filter a list takes, and every sort in both directions, each paged one by one."""
    out: list[dict[str, Any]] = [{}, {"open": "true"}, {"asset_id": ASSET}]
    out += [{"status": s} for s in ("new", "assigned", "acknowledged", "in_progress")]
    out += [{"priority": p} for p in ("P1", "P2", "P3", "P4")]
    out += [{"type": t} for t in ("corrective", "preventive", "inspection", "request")]
    out += [{"origin": o} for o in ("manual", "request", "alert", "pm")]
    out += [{"contractor_id": w.orgs["b"]}, {"contractor_id": w.orgs["a"]}]
    out += [{"assignee": "me"}, {"assignee": str(w.users["contractor_b"])}]
    out += [{"q": TITLES["b"]}, {"q": "Firm B"}, {"q": "job"}]
    out += [{"created_from": "2000-01-01T00:00:00+00:00", "created_to": "2999-01-01T00:00:00Z"}]
    out += [{"sort": f"{d}{s}"} for s in SORTS for d in ("", "-")]
    return out


def test_another_firms_work_order_is_in_no_list_filter_search_or_sort(world: World) -> None:
    w = world
    variants = _list_variants(w)
    leaked = []
    for params in variants:
        for item in _listed(w, "contractor_a", **params):
            if item["id"] != w.wo["a"] and item["contractor_id"] != w.orgs["a"]:
                leaked.append((params, item["id"], item["title"]))
    assert not leaked, f"contractor A saw work it does not hold: {leaked}"
    assert {i["id"] for i in _listed(w, "contractor_a")} == {w.wo["a"]}
    # The same searches as an admin do find firm B's work order: the filters are not just empty.
    assert w.wo["b"] in {i["id"] for i in _listed(w, "env-admin", q=TITLES["b"])}


def test_exports_carry_only_the_callers_firms_work_orders(world: World) -> None:
    w = world
    for params in ({}, {"contractor_id": w.orgs["b"]}, {"q": TITLES["b"]}, {"asset_id": ASSET}):
        r = w.call("contractor_a", "GET", "/api/v1/workorders/export.csv", params=params)
        assert r.status_code == 200
        assert _csv_ids(r.text) <= {w.wo["a"]}, params
        assert TITLES["b"] not in r.text and TITLES["req"] not in r.text
    whole = w.call("env-admin", "GET", "/api/v1/workorders/export.csv").text
    assert {w.wo["a"], w.wo["b"], w.wo["req"]} <= _csv_ids(whole)


def test_asset_history_shows_a_contractor_only_its_own_work_and_costs(world: World) -> None:
    w = world
    url = f"/api/v1/assets/{ASSET}/history"
    mine = w.call("contractor_a", "GET", url).json()
    assert [i["id"] for i in mine["items"]] == [w.wo["a"]]
    # Seeded: 2 h at 50 on firm A's job, 2 h at 70 on each of the others.
    assert mine["totals"]["labor"] == 100.0 and mine["totals"]["work_orders"] == 1
    everyone = w.call("env-admin", "GET", url).json()
    assert {w.wo["a"], w.wo["b"]} <= {i["id"] for i in everyone["items"]}


def test_another_firms_attachment_is_404_by_any_path(world: World) -> None:
    w = world
    a, b, att_b = w.wo["a"], w.wo["b"], w.att["b"]
    for url in (
        f"/api/v1/workorders/{b}/attachments/{att_b}",
        f"/api/v1/workorders/{a}/attachments/{att_b}",  # its id under a work order A does hold
    ):
        r = w.call("contractor_a", "GET", url)
        assert r.status_code == 404, url
        assert r.headers["content-type"].startswith("application/json")
    listed = w.call("contractor_a", "GET", f"/api/v1/workorders/{a}/attachments").json()
    assert att_b not in {x["id"] for x in listed}


def test_contractors_see_only_their_own_firm_and_their_own_tokens(world: World) -> None:
    w = world
    firms = w.call("contractor_a", "GET", "/api/v1/contractors").json()
    assert [f["id"] for f in firms] == [w.orgs["a"]]
    uid_b = w.users["contractor_b"]
    tokens = w.call("contractor_a", "GET", "/api/v1/tokens", params={"user_id": uid_b}).json()
    assert tokens["items"] == []
    assert w.call("contractor_a", "GET", f"/api/v1/users/{uid_b}").status_code == 404


def test_a_contractor_cannot_hand_its_work_to_another_firm(world: World) -> None:
    w = world
    url = f"/api/v1/workorders/{w.wo['a']}/assign"
    r = w.call("contractor_a", "POST", url, json={"contractor_id": w.orgs["b"]})
    assert r.status_code == 403
    got = w.call("env-admin", "GET", f"/api/v1/workorders/{w.wo['a']}").json()
    assert got["contractor_id"] == w.orgs["a"]


def test_assigning_to_another_firms_user_does_not_reveal_who_that_is(world: World) -> None:
    w = world
    url = f"/api/v1/workorders/{w.wo['a']}/assign"
    body = {"contractor_id": w.orgs["a"], "assignee_id": w.users["contractor_b"]}
    r = w.call("contractor_a", "POST", url, json=body)
    assert r.status_code in (404, 422)
    assert "mx-contractor_b" not in r.text, r.text
    # ...and tells an id of another firm's user apart from one no user has in no other way.
    unknown = w.call("contractor_a", "POST", url, json={**body, "assignee_id": 999_999})
    assert (r.status_code, r.json()["message"].replace(str(w.users["contractor_b"]), "N")) == (
        unknown.status_code,
        unknown.json()["message"].replace("999999", "N"),
    )


def test_an_idempotency_key_is_never_replayed_to_another_caller(world: World) -> None:
    w = world
    url = f"/api/v1/workorders/{w.wo['a']}/comments"
    key = {"Idempotency-Key": "shared-key-1"}
    first = w.call("contractor_a", "POST", url, json={"text": "on site"}, headers=key)
    assert first.status_code == 201
    other = w.call("contractor_b", "POST", url, json={"text": "on site"}, headers=key)
    assert other.status_code == 404
    assert "idempotent-replayed" not in other.headers


# --- requesters see what they raised ----------------------------------------------------------


def test_a_requester_lists_and_exports_only_what_they_raised(world: World) -> None:
    w = world
    assert {i["id"] for i in _listed(w, "requester")} == {w.wo["req"]}
    r = w.call("requester", "GET", "/api/v1/workorders/export.csv")
    assert _csv_ids(r.text) == {w.wo["req"]}


def test_asset_history_shows_a_requester_only_what_they_raised(world: World) -> None:
    w = world
    mine = w.call("requester", "GET", f"/api/v1/assets/{ASSET}/history").json()
    seen = {i["id"] for i in mine["items"]}
    assert seen == {w.wo["req"]}, (
        f"the requester sees work orders {sorted(seen)} and costs {mine['totals']} in the "
        f"asset's history, though GET /workorders/{{id}} answers 404 for all but {w.wo['req']}"
    )


# --- the tablet UI (session cookie) and the public report page --------------------------------


def _ui(w: World, role: str) -> TestClient:
    ui = TestClient(w.http.app)
    r = sign_in(ui, f"mx-{role}", PASSWORD, follow_redirects=False)
    assert r.status_code == 303, r.text
    return ui


def test_the_tablet_ui_lists_and_opens_for_each_role_what_the_api_does(world: World) -> None:
    """The tablet's list is the API's list, fetched with the session (static/js/list.js); its
    work-order page opens exactly what GET /workorders/{id} answers, and 404 for the rest."""
    w = world
    wrong = {}
    every = set(w.wo.values())
    for role in ("admin", "engineer", "technician", "contractor_a", "contractor_b", "requester"):
        api = {i["id"] for i in _listed(w, role, open="true")}
        ui = _ui(w, role)
        assert ui.get("/ui/").status_code == 200
        listed = ui.get("/api/v1/workorders", params={"open": "true", "limit": 500})
        assert listed.status_code == 200, listed.text
        if {i["id"] for i in listed.json()["items"]} != api:
            wrong[role] = f"the UI session lists {listed.json()['items']}, the API {sorted(api)}"
        readable = {i for i in every if w.call(role, "GET", f"/api/v1/workorders/{i}").is_success}
        pages = {i: ui.get(f"/ui/workorders/{i}").status_code for i in every}
        if {i for i, code in pages.items() if code == 200} != readable or not set(
            pages.values()
        ) <= {200, 404}:
            wrong[f"{role} pages"] = f"pages answer {pages}; the API reads {sorted(readable)}"
    assert not wrong, wrong


def test_the_tablet_ui_refuses_another_firms_work_order(world: World) -> None:
    w = world
    ui = _ui(w, "contractor_a")
    csrf = re.search(r'name="csrf" value="([^"]+)"', ui.get("/ui/").text)
    assert csrf is not None
    before = _fingerprint(w, w.wo["b"])
    r = ui.post(
        f"/ui/workorders/{w.wo['b']}/status",
        data={"status": "acknowledged", "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 404
    assert _fingerprint(w, w.wo["b"]) == before
    own = ui.post(
        f"/ui/workorders/{w.wo['a']}/status",
        data={"status": "acknowledged", "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    assert own.status_code == 303 and "done=" in own.headers["location"]


def test_the_tablet_ui_sends_strangers_to_sign_in_and_changes_nothing(world: World) -> None:
    w = world
    anon = TestClient(w.http.app)
    assert anon.get("/ui/", follow_redirects=False).headers["location"] == "/ui/login"
    before = _fingerprint(w, w.wo["a"])
    r = anon.post(
        f"/ui/workorders/{w.wo['a']}/status",
        data={"status": "acknowledged", "csrf": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert _fingerprint(w, w.wo["a"]) == before


def test_the_public_report_page_needs_no_sign_in_and_shows_no_work_orders(world: World) -> None:
    w = world
    anon = TestClient(w.http.app)
    page = anon.get(f"/r/{ASSET}")
    assert page.status_code == 200
    assert not any(title in page.text for title in TITLES.values())
    assert w.call("env-admin", "DELETE", "/api/v1/assets/mx-retire").status_code == 200
    assert anon.get("/r/mx-retire").status_code == 404
    assert anon.get("/r/no-such-asset").status_code == 404
