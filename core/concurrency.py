"""Optimistic concurrency over HTTP: ETags carry an entity's version, If-Match guards updates.

A client sends back the ETag it last saw in If-Match. If the entity changed since, the update
answers 412 and the client reloads. Two updates racing past the check are caught by the
version column itself (SQLAlchemy's version_id_col), which the error handler also turns into 412.
"""

from __future__ import annotations

from fastapi import Request, Response

from core.errors import AppError

#: The longest If-Match header a change accepts (core.openapi.IF_MATCH documents it).
MAX_IF_MATCH = 200


class PreconditionFailed(AppError):
    """If-Match named a version that is no longer current."""

    status_code = 412
    error = "precondition_failed"


def etag(version: int, revision: int | str | None = None) -> str:
    """The strong ETag of an entity at this version; with revision, of its representation too.

    An entity whose representation grows by appends that do not change its version (a work
    order's comments, labor, parts and photos: appends never conflict, so they leave the
    version alone) is tagged `"<version>.<revision>"`, revision counting the appends. A reader
    polling with If-None-Match then sees the appends, while If-Match still compares the version
    only: an update guarded by a tag read before someone's comment goes through."""
    return f'"{version}"' if revision is None else f'"{version}.{revision}"'


def _version_part(tag: str) -> str:
    """The version an ETag names: `"7"` and `"7.31"` both name version 7."""
    if tag.startswith('"') and tag.endswith('"') and len(tag) >= 2:
        return '"' + tag[1:-1].split(".", 1)[0] + '"'
    return tag


def check_if_match(if_match: str | None, version: int, *, what: str = "the work order") -> None:
    """Raise PreconditionFailed unless the If-Match header's value (`if_match`) is absent, '*',
    or names this version; `what` names the entity in the message."""
    if if_match is None:
        return
    if len(if_match) > MAX_IF_MATCH:
        # What the OpenAPI document states (core.openapi.IF_MATCH): no version is that long,
        # and a header that says nothing about one is a malformed request, not a stale one.
        raise AppError(f"If-Match is longer than {MAX_IF_MATCH} characters", status_code=400)
    tags = [_version_part(t.strip()) for t in if_match.split(",")]
    if "*" in tags or etag(version) in tags:
        return
    raise PreconditionFailed(
        f"{what} changed since you loaded it; reload and try again",
        detail={"current_etag": etag(version), "if_match": if_match[:200]},
    )


def none_match(request: Request, tag: str) -> bool:
    """True when If-None-Match names tag (or is '*'): the client's copy is current, answer 304.
    The comparison is weak, as RFC 9110 prescribes for If-None-Match."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or tag.removeprefix("W/") in tags


def set_etag(response: Response, version: int) -> None:
    """Put the entity's ETag on the response."""
    response.headers["ETag"] = etag(version)
