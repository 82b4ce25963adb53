"""Pages of issue 15 (see /work/plan15.md); filled in by its owner."""

from __future__ import annotations

from fastapi import APIRouter

from core.db import CommittingRoute

router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)
