"""Query parameters every paged list shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

#: The opaque cursor of the next page: the `next_cursor` of the last one, never empty. One the
#: API did not hand out answers 400.
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=400, description="next_cursor of the last page"),
]
