"""REST routes for webhook subscriptions and deliveries."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["webhooks"])
