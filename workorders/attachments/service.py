"""Photos and documents on work orders: receiving uploads within limits, storing them under the
data directory, and recording them.

An upload is read from the request stream part by part and written straight to a temporary
file next to its final place, counting bytes as they arrive: a body over the limit is cut off
at the limit, whatever its Content-Length says. Its type is then taken from its first bytes,
never from the client's Content-Type or file name, and must be on the allowlist. Files live at
<data_dir>/attachments/<work order id>/<random>.<ext>; the client's file name is kept, cleaned,
for display and download only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_multipart
from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from config.settings import DEFAULT_ATTACHMENT_MAX_BYTES, Settings
from core import audit
from core.auth.models import Role
from core.auth.service import Principal
from core.errors import AppError, Forbidden, NotFound
from workorders.attachments import repository
from workorders.orders import service as orders
from workorders.orders.models import Attachment, WorkOrder, WorkOrderEvent

#: The upload limit unless PLANTROOM_ATTACHMENT_MAX_BYTES says otherwise.
DEFAULT_MAX_BYTES = DEFAULT_ATTACHMENT_MAX_BYTES
#: Room for multipart framing and part headers on top of the file and text fields.
FRAMING_ALLOWANCE = 64 * 1024
HEAD_BYTES = 32


@dataclass(frozen=True)
class FileKind:
    """A type on the allowlist: its media type and the extension files of it are stored with."""

    content_type: str
    ext: str


JPEG = FileKind("image/jpeg", ".jpg")
PNG = FileKind("image/png", ".png")
WEBP = FileKind("image/webp", ".webp")
HEIC = FileKind("image/heic", ".heic")
HEIF = FileKind("image/heif", ".heif")
PDF = FileKind("application/pdf", ".pdf")
#: Photos: what a phone camera produces.
IMAGES = frozenset({JPEG, PNG, WEBP, HEIC, HEIF})
#: Everything a work order may carry.
ALLOWED = frozenset({*IMAGES, PDF})
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1"}


class UploadError(AppError):
    """An upload refused; `fields` holds the text fields read before it was."""

    def __init__(self, message: str, *, detail: Any = None):
        super().__init__(message, detail=detail)
        self.fields: dict[str, str] = {}


class TooLarge(UploadError):
    """The upload is bigger than the limit."""

    status_code = 413
    error = "too_large"


class UnsupportedType(UploadError):
    """The file's content is not a type on the allowlist (or the body is not multipart)."""

    status_code = 415
    error = "unsupported_type"


class BadUpload(UploadError):
    """The multipart body is malformed, or lacks the file, or has fields it should not."""

    status_code = 422
    error = "bad_upload"


def sniff(head: bytes) -> FileKind | None:
    """The allowlisted type these first bytes of a file belong to, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return HEIC
        if brand in _HEIF_BRANDS:
            return HEIF
    return None


_UNSAFE = re.compile(r'[\\/:*?"<>|;%\x00-\x1f\x7f]')


def safe_filename(name: str, kind: FileKind) -> str:
    """The client's file name made safe to show and to send back in Content-Disposition: no
    path, no control or quoting characters, at most 150 characters of stem, and the extension
    of what the file really is."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKC", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.strip(" .")[:150].strip(" .")
    return (stem or "attachment") + kind.ext


def max_bytes(settings: Settings) -> int:
    """The upload limit in force (PLANTROOM_ATTACHMENT_MAX_BYTES, 10 MB unless set)."""
    return settings.attachment_max_bytes


def root(settings: Settings) -> Path:
    """Where attachments are stored: <data_dir>/attachments."""
    return Path(settings.data_dir) / "attachments"


# --- receiving ----------------------------------------------------------------------------------


@dataclass
class ReceivedFile:
    """An uploaded file, written to a temporary path, not yet checked or stored."""

    tmp: Path
    filename: str
    size: int = 0
    head: bytes = b""
    sha256: str = ""


@dataclass
class ReceivedForm:
    """The text fields and the (one) file of a multipart form."""

    fields: dict[str, str] = field(default_factory=dict)
    file: ReceivedFile | None = None

    def discard(self) -> None:
        """Delete the temporary file, if it is still there."""
        if self.file is not None:
            with contextlib.suppress(FileNotFoundError):
                self.file.tmp.unlink()


class _Receiver:
    """python-multipart callbacks that keep small text fields and stream one file to disk."""

    def __init__(
        self,
        incoming: Path,
        *,
        file_field: str,
        text_fields: Collection[str],
        max_file: int,
        max_field: int,
    ):
        self.incoming = incoming
        self.file_field = file_field
        self.text_fields = text_fields
        self.max_file = max_file
        self.max_field = max_field
        self.form = ReceivedForm()
        self._hash = hashlib.sha256()
        self._out: Any = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._hname = b""
        self._hvalue = b""
        self._name = ""
        self._is_file = False
        self._buf = bytearray()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }

    def on_part_begin(self) -> None:
        self._headers, self._buf, self._name, self._is_file = [], bytearray(), "", False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def on_header_end(self) -> None:
        self._headers.append((self._hname.lower(), self._hvalue))
        self._hname, self._hvalue = b"", b""

    def on_headers_finished(self) -> None:
        disposition = next((v for k, v in self._headers if k == b"content-disposition"), b"")
        _, options = parse_options_header(disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            return
        if self._name != self.file_field:
            raise BadUpload(f"files go in the field '{self.file_field}', not '{self._name}'")
        if self.form.file is not None:
            raise BadUpload("one file per upload")
        self._is_file = True
        self.incoming.mkdir(parents=True, exist_ok=True)
        tmp = self.incoming / f"{secrets.token_hex(16)}.part"
        self.form.file = ReceivedFile(
            tmp=tmp, filename=options[b"filename"].decode("utf-8", "replace")
        )
        self._out = tmp.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._is_file:
            if len(self._buf) + len(chunk) > self.max_field:
                # A malformed form, not an upload over the limit: 422, like other bad fields.
                raise BadUpload(
                    f"the field '{self._name}' is longer than {self.max_field} bytes",
                    detail={"field": self._name},
                )
            self._buf.extend(chunk)
            return
        f = self.form.file
        assert f is not None
        f.size += len(chunk)
        if f.size > self.max_file:
            raise TooLarge(
                f"the file is larger than the limit of {self.max_file // (1024 * 1024)} MB",
                detail={"limit_bytes": self.max_file},
            )
        if len(f.head) < HEAD_BYTES:
            f.head += chunk[: HEAD_BYTES - len(f.head)]
        self._hash.update(chunk)
        self._out.write(chunk)

    def on_part_end(self) -> None:
        if self._is_file:
            self.close()
            assert self.form.file is not None
            self.form.file.sha256 = self._hash.hexdigest()
        elif self._name in self.text_fields:
            self.form.fields[self._name] = self._buf.decode("utf-8", "replace")

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


async def receive(
    request: Request,
    *,
    incoming: Path,
    max_file_bytes: int,
    file_field: str = "file",
    text_fields: Collection[str] = (),
    max_field_bytes: int = 16 * 1024,
) -> ReceivedForm:
    """Read a multipart/form-data body as it streams in: text fields into memory (each at most
    max_field_bytes), one file into a temporary file under incoming (at most max_file_bytes).
    Raises TooLarge (413) as soon as a limit is passed, UnsupportedType (415) for a body that
    is not multipart, BadUpload (422) for a malformed one."""
    ctype = request.headers.get("content-type", "")
    kind, params = parse_options_header(ctype)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UnsupportedType("send the file as multipart/form-data")
    max_body = max_file_bytes + len(text_fields) * max_field_bytes + FRAMING_ALLOWANCE
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise TooLarge(
            f"the upload is larger than the limit of {max_file_bytes // (1024 * 1024)} MB",
            detail={"limit_bytes": max_file_bytes},
        )
    rx = _Receiver(
        incoming,
        file_field=file_field,
        text_fields=text_fields,
        max_file=max_file_bytes,
        max_field=max_field_bytes,
    )
    parser = python_multipart.MultipartParser(boundary, rx.callbacks())  # type: ignore[arg-type]
    seen = 0
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > max_body:
                raise TooLarge(
                    f"the upload is larger than the limit of {max_file_bytes // (1024 * 1024)} MB",
                    detail={"limit_bytes": max_file_bytes},
                )
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        rx.close()
        rx.form.discard()
        err = BadUpload("the body is not valid multipart/form-data")
        err.fields = dict(rx.form.fields)
        raise err from exc
    except UploadError as exc:
        rx.close()
        rx.form.discard()
        exc.fields = dict(rx.form.fields)
        raise
    except (ClientDisconnect, OSError):
        rx.close()
        rx.form.discard()
        raise
    rx.close()
    f = rx.form.file
    if f is not None and (f.size == 0 or not f.sha256):
        # A form sent with no file chosen carries an empty file part.
        rx.form.discard()
        rx.form.file = None
    return rx.form


def check_type(f: ReceivedFile, allowed: Collection[FileKind] = ALLOWED) -> FileKind:
    """What the file is, by its first bytes; UnsupportedType (415) unless on the allowlist."""
    kind = sniff(f.head)
    if kind is None or kind not in allowed:
        names = ", ".join(sorted(k.ext.lstrip(".").upper() for k in allowed))
        raise UnsupportedType(
            f"that file is not one of: {names} (judged by its content, not its name)",
            detail={"allowed": sorted(k.content_type for k in allowed)},
        )
    return kind


# --- storing and recording ----------------------------------------------------------------------


def attachable(session: Session, *, who: Principal, wo_id: int) -> WorkOrder:
    """The work order a caller may attach a file to: one it may see, and for a requester one
    they raised (403 otherwise)."""
    wo = orders.get_visible(session, who=who, wo_id=wo_id)
    if who.role is Role.requester and wo.created_by != who.username:
        raise Forbidden("a requester may attach files only to work orders they raised")
    return wo


def list_for(session: Session, *, who: Principal, wo_id: int) -> list[Attachment]:
    """The attachments of a work order the caller may see, oldest first."""
    orders.get_visible(session, who=who, wo_id=wo_id)
    return repository.list_for(session, wo_id)


def get_for(session: Session, *, who: Principal, wo_id: int, att_id: int) -> Attachment:
    """One attachment of a work order the caller may see; 404 when it has no such one."""
    orders.get_visible(session, who=who, wo_id=wo_id)
    att = repository.get_for(session, wo_id, att_id)
    if att is None:
        raise NotFound(f"attachment {att_id} not found on work order {wo_id}")
    return att


def path_of(store: Path, att: Attachment) -> Path | None:
    """The file of an attachment, if it is there and inside the store."""
    path = (store / att.path).resolve()
    if not path.is_relative_to(store.resolve()) or not path.is_file():
        return None
    return path


def save(
    session: Session,
    *,
    wo: WorkOrder,
    store: Path,
    upload: ReceivedFile,
    kind: FileKind,
    actor: str,
    role: str = "",
    organisation_id: int | None = None,
    at: dt.datetime | None = None,
) -> Attachment:
    """Move a checked upload into the store and record it: the attachment row, a timeline event
    and an audit entry, in the caller's transaction. The file is removed again if recording
    fails. `at` is when the photo was taken (a tablet syncing later sends its own time); the
    timeline shows it, within the bounds of orders.action_time."""
    clock = dt.datetime.now(dt.UTC)
    when = orders.action_time(
        at, clock, not_before=wo.created_at, since="the work order was created"
    )
    folder = store / str(wo.id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}{kind.ext}"
    final = folder / name
    os.replace(upload.tmp, final)
    try:
        att = Attachment(
            workorder_id=wo.id,
            filename=safe_filename(upload.filename, kind),
            content_type=kind.content_type,
            size=upload.size,
            sha256=upload.sha256,
            path=f"{wo.id}/{name}",
            uploaded_by=actor,
        )
        session.add(att)
        session.flush()
        facts = {
            "attachment_id": att.id,
            "filename": att.filename,
            "content_type": att.content_type,
            "size": att.size,
            "sha256": att.sha256,
        }
        event = WorkOrderEvent(
            workorder_id=wo.id, kind="attachment", actor=actor, message=att.filename, data=facts
        )
        if at is not None:
            event.ts, event.received_at = when, clock
        session.add(event)
        audit.record(
            session,
            actor=actor,
            actor_role=role,
            organisation_id=organisation_id,
            entity="work_order",
            entity_id=wo.id,
            action="attach",
            before=None,
            after=facts,
            version=wo.version,
            action_at=at and when,
        )
        session.flush()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            final.unlink()
        raise
    return att


def save_for(
    session: Session,
    *,
    wo: WorkOrder,
    store: Path,
    upload: ReceivedFile,
    kind: FileKind,
    who: Principal,
    at: dt.datetime | None = None,
) -> Attachment:
    """save() on behalf of an API caller."""
    return save(
        session,
        wo=wo,
        store=store,
        upload=upload,
        kind=kind,
        actor=who.username,
        role=who.role,
        organisation_id=who.organisation_id,
        at=at,
    )
