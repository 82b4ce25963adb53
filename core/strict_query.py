"""Unknown query parameters are refused, on every operation of the API.

A misspelt filter (`?stauts=open`) that is silently ignored answers with the unfiltered list, and
the caller believes it filtered. So an operation of the OpenAPI document answers 422 naming any
query parameter it does not declare, as the document says (it lists every parameter each
operation takes, and nothing else). Pages outside the document (the tablet UI, the occupant
page) keep their own informal parameters.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def _query_names(dependant: Dependant) -> Iterator[str]:
    for p in dependant.query_params:
        yield p.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def _declared(route: APIRoute) -> frozenset[str]:
    """The query parameters the route and its dependencies declare (kept on the route)."""
    names: frozenset[str] | None = getattr(route, "_declared_query", None)
    if names is None:
        names = frozenset(_query_names(route.dependant))
        route._declared_query = names  # type: ignore[attr-defined]
    return names


async def refuse_unknown_query(request: Request) -> None:
    """A dependency for every route: 422 for a query parameter the operation does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    unknown = sorted(set(request.query_params) - _declared(route))
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "unknown query parameter",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )
