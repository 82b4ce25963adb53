"""REST routes for webhook subscriptions and deliveries, under /api/v1; admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from core.auth.deps import AdminPrincipal
from core.db import MAX_ID, CommittingRoute, SessionDep
from core.pagination import IdCursor, id_cursor, read_id_cursor, split_page
from workorders.webhooks import service as webhooks
from workorders.webhooks.models import WebhookDelivery
from workorders.webhooks.schemas import (
    DeliveryList,
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookOut,
    WebhookUpdate,
)

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["webhooks"])
HookId = Annotated[int, Path(ge=1, le=MAX_ID, description="webhook id")]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="delivery id")]


#: Admins only, with a token holding the 'admin' scope; 403 for everyone else.
Admin = AdminPrincipal


def delivery_out(d: WebhookDelivery) -> DeliveryOut:
    """API shape of a delivery."""
    state = webhooks.status_of(d)
    return DeliveryOut(
        id=d.id,
        webhook_id=d.webhook_id,
        event=d.event,
        status=state,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at if state == "pending" else None,
        delivered_at=d.delivered_at,
        failed_at=d.failed_at,
        last_status=d.last_status,
        last_error=d.last_error,
        created_at=d.created_at,
        payload=d.payload,
    )


@router.get("/webhooks", response_model=WebhookList)
def list_webhooks(session: SessionDep, who: Admin) -> WebhookList:
    """Every webhook, active or not."""
    return WebhookList(items=[WebhookOut.model_validate(h) for h in webhooks.all_hooks(session)])


@router.post("/webhooks", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookCreate, session: SessionDep, who: Admin) -> WebhookCreated:
    """Subscribe a URL to work-order events. The answer holds the signing secret, which is
    never shown again."""
    hook = webhooks.create_hook(
        session, who=who, url=body.url, events=body.events, secret=body.secret
    )
    return WebhookCreated(**WebhookOut.model_validate(hook).model_dump(), secret=hook.secret)


@router.get("/webhooks/{hook_id}", response_model=WebhookOut)
def get_webhook(hook_id: HookId, session: SessionDep, who: Admin) -> WebhookOut:
    """One webhook."""
    return WebhookOut.model_validate(webhooks.get_hook(session, hook_id))


@router.patch("/webhooks/{hook_id}", response_model=WebhookOut)
def update_webhook(
    hook_id: HookId, body: WebhookUpdate, session: SessionDep, who: Admin
) -> WebhookOut:
    """Change a webhook's URL or events, or switch it on or off."""
    hook = webhooks.update_hook(
        session,
        webhooks.get_hook(session, hook_id),
        who=who,
        url=body.url,
        events=body.events,
        active=body.active,
    )
    return WebhookOut.model_validate(hook)


@router.delete("/webhooks/{hook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(hook_id: HookId, session: SessionDep, who: Admin) -> Response:
    """Switch a webhook off; it and its deliveries stay for the record."""
    webhooks.deactivate_hook(session, webhooks.get_hook(session, hook_id), who=who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{hook_id}/deliveries", response_model=DeliveryList)
def list_deliveries(
    hook_id: HookId,
    session: SessionDep,
    who: Admin,
    status_: Annotated[webhooks.DeliveryStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: IdCursor = None,
) -> DeliveryList:
    """A webhook's deliveries, newest first, optionally only pending, delivered or failed."""
    after = read_id_cursor(cursor)
    webhooks.get_hook(session, hook_id)
    rows = webhooks.deliveries(session, hook_id, status=status_, limit=limit + 1, after_id=after)
    page, next_cursor = split_page(rows, limit, lambda d: id_cursor(d.id))
    return DeliveryList(items=[delivery_out(d) for d in page], next_cursor=next_cursor)


@router.post(
    "/webhooks/{hook_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def redeliver(
    hook_id: HookId, delivery_id: DeliveryId, session: SessionDep, who: Admin
) -> DeliveryOut:
    """Send a delivered or failed delivery again, as a new delivery; 409 while it is pending."""
    hook = webhooks.get_hook(session, hook_id)
    original = webhooks.get_delivery(session, hook_id, delivery_id)
    return delivery_out(webhooks.redeliver(session, hook, original))


@router.post(
    "/webhooks/{hook_id}/test", response_model=DeliveryOut, status_code=status.HTTP_202_ACCEPTED
)
def test_webhook(hook_id: HookId, session: SessionDep, who: Admin) -> DeliveryOut:
    """Queue a 'webhook.test' event for this webhook alone."""
    hook = webhooks.get_hook(session, hook_id)
    return delivery_out(webhooks.send_test(session, hook, who=who))
