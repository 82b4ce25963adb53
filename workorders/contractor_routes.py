"""REST routes for contractors, SLA scorecards and PM compliance."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["contractors"])
