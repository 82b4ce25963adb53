"""REST routes for work-order attachments (photos and documents), under /api/v1.

Visibility follows the work order: a contractor asking about another firm's work order, or its
attachments, gets 404 as if neither existed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from core.auth.deps import CurrentPrincipal
from core.db import CommittingRoute, SessionDep
from core.errors import NotFound
from workorders.attachments import service as attachments
from workorders.orders.models import Attachment
from workorders.orders.routes import WorkOrderId
from workorders.orders.schemas import ActionTime

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["attachments"])
AttachmentId = Annotated[int, Path(ge=1, le=2_147_483_647, description="attachment id")]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG, PNG, WebP, HEIC/HEIF or PDF; 10 MB at most",
                        },
                        "at": {
                            **TypeAdapter(ActionTime).json_schema(),
                            "description": "When it was taken, if earlier than now (offline "
                            "tablets): ISO 8601 with its UTC offset",
                        },
                    },
                }
            }
        },
    }
}


class AttachmentOut(BaseModel):
    """A file on a work order."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    workorder_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: dt.datetime
    url: str


def _out(att: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=att.id,
        workorder_id=att.workorder_id,
        filename=att.filename,
        content_type=att.content_type,
        size=att.size,
        sha256=att.sha256,
        uploaded_by=att.uploaded_by,
        created_at=att.created_at,
        url=f"/api/v1/workorders/{att.workorder_id}/attachments/{att.id}",
    )


def _taken_at(text: str | None) -> dt.datetime | None:
    """The form's 'at' as a time; BadUpload (422) unless ISO 8601 with its UTC offset."""
    if not text:
        return None
    try:
        return TypeAdapter(ActionTime).validate_python(text)
    except ValidationError:
        raise attachments.BadUpload(
            "at: a time is ISO 8601 text with its UTC offset, e.g. 2026-03-01T08:00:00+08:00",
            detail={"field": "at"},
        ) from None


@router.post(
    "/workorders/{wo_id}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_BODY,
    responses={
        413: {"description": "larger than the limit (10 MB unless configured)"},
        415: {"description": "not multipart, or the file's content is not an allowed type"},
    },
)
async def upload_attachment(
    wo_id: WorkOrderId, request: Request, session: SessionDep, who: CurrentPrincipal
) -> AttachmentOut:
    """Attach a photo or PDF (multipart field 'file'). Its type is judged by its content.
    The optional field 'at' records when it was taken, for photos synced late."""
    wo = await run_in_threadpool(lambda: attachments.attachable(session, who=who, wo_id=wo_id))
    settings = request.app.state.settings
    store = attachments.root(settings)
    form = await attachments.receive(
        request,
        incoming=store / ".incoming",
        max_file_bytes=attachments.max_bytes(settings),
        text_fields=("at",),
        max_field_bytes=100,
    )
    try:
        at = _taken_at(form.fields.get("at"))
        if form.file is None:
            raise attachments.BadUpload("no file: send one, not empty, in the field 'file'")
        upload = form.file
        kind = attachments.check_type(upload)
        att = await run_in_threadpool(
            lambda: attachments.save_for(
                session, wo=wo, store=store, upload=upload, kind=kind, who=who, at=at
            )
        )
    finally:
        form.discard()
    return _out(att)


@router.get("/workorders/{wo_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(
    wo_id: WorkOrderId, session: SessionDep, who: CurrentPrincipal
) -> list[AttachmentOut]:
    """The work order's attachments, oldest first."""
    return [_out(a) for a in attachments.list_for(session, who=who, wo_id=wo_id)]


@router.get(
    "/workorders/{wo_id}/attachments/{att_id}",
    response_class=FileResponse,
    responses={
        200: {
            "content": {
                kind.content_type: {"schema": {"type": "string", "format": "binary"}}
                for kind in sorted(attachments.ALLOWED, key=lambda k: k.content_type)
            },
            "description": "the file, as the type its content was judged to be on upload",
        }
    },
)
def download_attachment(
    wo_id: WorkOrderId,
    att_id: AttachmentId,
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
) -> FileResponse:
    """The file, with its type and name. Photos open in the browser; PDFs download."""
    att = attachments.get_for(session, who=who, wo_id=wo_id, att_id=att_id)
    path = attachments.path_of(attachments.root(request.app.state.settings), att)
    if path is None:
        raise NotFound(f"the file of attachment {att_id} is missing from the store")
    inline = att.content_type.startswith("image/")
    return FileResponse(
        path,
        media_type=att.content_type,
        filename=att.filename,
        content_disposition_type="inline" if inline else "attachment",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=300",
        },
    )
