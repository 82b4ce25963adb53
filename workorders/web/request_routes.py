"""REST routes for the public occupant request page (no login)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["requests"])
