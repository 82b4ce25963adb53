"""REST routes for assets, locations, QR codes and asset history."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["assets"])
