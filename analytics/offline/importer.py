"""Importing offline meters' figures from a CSV or XLSX file, all or nothing.

The first row names the columns (any order, any case; the Chinese names of ALIASES too):
- readings of counter meters: ``meter, time, value`` and optionally ``unit``, ``note``;
- quantities of quantity meters: ``meter, from, to, amount, unit`` and optionally ``note``
  (``to`` is excluded: March is from 2026-03-01 to 2026-04-01).

Times without a zone are the site's local time; a date alone is its local midnight. Rows are
numbered as a spreadsheet shows them (the header is row 1). Every row is checked as
analytics.offline.service checks an entry typed in, against what is stored and the rows above
it; one bad row refuses the whole file, listing every bad row as "row N: reason".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from analytics.meters import MeterTree
from analytics.offline import service
from core.errors import AppError

READING_COLUMNS = ("meter", "time", "value")
QUANTITY_COLUMNS = ("meter", "from", "to", "amount", "unit")
OPTIONAL = {"reading": ("unit", "note"), "quantity": ("note",)}
#: Column names a Chinese spreadsheet may use instead.
ALIASES = {
    "表计": "meter",
    "计量表": "meter",
    "时间": "time",
    "抄表时间": "time",
    "读数": "value",
    "开始": "from",
    "起": "from",
    "结束": "to",
    "止": "to",
    "用量": "amount",
    "数量": "amount",
    "单位": "unit",
    "备注": "note",
}
#: Most rows one file may hold.
MAX_ROWS = 20_000
#: The largest file accepted (bytes).
MAX_BYTES = 10 * 1024 * 1024
_HOW = (
    "readings need the columns meter,time,value[,unit][,note]; quantities need "
    "meter,from,to,amount,unit[,note] (to excluded)"
)


class ImportRefused(AppError):
    """The file, or some of its rows, cannot be stored; nothing was."""

    status_code = 422
    error = "import_refused"


@dataclass
class ImportResult:
    """What a file held and what was (or, on a dry run, would be) stored."""

    kind: str
    rows: int
    dry_run: bool
    meters: dict[str, int] = field(default_factory=dict)


def _rows(data: bytes, filename: str | None) -> Iterator[list[Any]]:
    """The file's rows as lists of cells (XLSX: its first sheet)."""
    is_xlsx = (filename or "").lower().endswith(".xlsx") or data[:2] == b"PK"
    if is_xlsx:
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
            raise ImportRefused(f"not a readable XLSX file ({exc.__class__.__name__})") from exc
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
        book.close()
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ImportRefused("the CSV file is neither UTF-8 nor GB18030 text") from exc
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def parse_time(cell: Any, tz: ZoneInfo) -> dt.datetime:
    """A cell as an aware time: ISO 8601 text or a spreadsheet date/time; local when no zone
    is given (ValueError when it is none of these)."""
    if isinstance(cell, dt.datetime):
        t = cell
    elif isinstance(cell, dt.date):
        t = dt.datetime.combine(cell, dt.time())
    elif isinstance(cell, str) and cell.strip():
        s = cell.strip().replace("/", "-")
        t = dt.datetime.fromisoformat(s)
    else:
        raise ValueError("no time")
    return t.replace(tzinfo=tz) if t.tzinfo is None else t


def parse_number(cell: Any) -> float:
    """A cell as a number (text may use a thousands comma); ValueError otherwise."""
    if isinstance(cell, bool):
        raise ValueError("not a number")
    if isinstance(cell, int | float):
        v = float(cell)
    elif isinstance(cell, str) and cell.strip():
        v = float(cell.strip().replace(",", ""))
    else:
        raise ValueError("not a number")
    if not math.isfinite(v):
        raise ValueError("not a finite number")
    return v


def import_file(
    session: Session,
    *,
    tree: MeterTree,
    tz: ZoneInfo,
    data: bytes,
    filename: str | None,
    by: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Check every row of the file and store them all, or none (ImportRefused listing every
    bad row); a dry run checks and stores nothing."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    rows = iter(_rows(data, filename))
    header: list[str] = []
    line = 0
    for cells in rows:
        line += 1
        if not all(_blank(c) for c in cells):
            header = [str(c or "").strip().lower() for c in cells]
            header = [ALIASES.get(h, h) for h in header]
            break
    if not header:
        raise ImportRefused(f"the file is empty: {_HOW}")
    needed: tuple[str, ...]
    if all(c in header for c in QUANTITY_COLUMNS):
        kind, needed = "quantity", QUANTITY_COLUMNS
    elif all(c in header for c in READING_COLUMNS):
        kind, needed = "reading", READING_COLUMNS
    else:
        raise ImportRefused(
            f"row {line}: the header ({', '.join(h for h in header if h)}) names neither "
            f"kind of entry: {_HOW}",
            detail={"errors": [f"row {line}: unknown columns"]},
        )
    col = {name: header.index(name) for name in (*needed, *OPTIONAL[kind]) if name in header}
    errors: list[str] = []
    result = ImportResult(kind=kind, rows=0, dry_run=dry_run)
    #: The entry each row stored, to name a row of this file where the service names an entry.
    row_of: dict[int, int] = {}
    nested = session.begin_nested()
    try:
        for cells in rows:
            line += 1
            if all(_blank(c) for c in cells):
                continue
            result.rows += 1
            if result.rows > MAX_ROWS:
                raise ImportRefused(f"the file has more than {MAX_ROWS} rows; split it")

            def cell(name: str, cells: list[Any] = cells) -> Any:
                i = col.get(name)
                return cells[i] if i is not None and i < len(cells) else None

            try:
                meter_id = str(cell("meter") or "").strip()
                if not meter_id:
                    raise ValueError("no meter")
                meter = tree.get(meter_id)
                note = None if _blank(cell("note")) else str(cell("note")).strip()
                unit = None if _blank(cell("unit")) else str(cell("unit")).strip()
                if kind == "reading":
                    row = service.record_reading(
                        session,
                        meter=meter,
                        at=_field(parse_time, "time", cell("time"), tz),
                        value=_field(parse_number, "value", cell("value")),
                        unit=unit,
                        by=by,
                        note=note,
                        source="import",
                        now=now,
                    )
                else:
                    if unit is None:
                        raise ValueError("no unit")
                    row = service.record_quantity(
                        session,
                        meter=meter,
                        start=_field(parse_time, "from", cell("from"), tz),
                        end=_field(parse_time, "to", cell("to"), tz),
                        amount=_field(parse_number, "amount", cell("amount")),
                        unit=unit,
                        by=by,
                        source="import",
                        note=note,
                        now=now,
                    )
                result.meters[meter.id] = result.meters.get(meter.id, 0) + 1
                row_of[row.id] = line
            except AppError as exc:
                entry = exc.detail.get("entry") if isinstance(exc.detail, dict) else None
                mine = f" (row {row_of[entry]} of this file)" if entry in row_of else ""
                errors.append(f"row {line}: {exc.message}{mine}")
            except ValueError as exc:
                errors.append(f"row {line}: {exc}")
        if result.rows == 0:
            raise ImportRefused(f"the file has a header but no rows: {_HOW}")
        if errors:
            raise ImportRefused(
                f"{len(errors)} of {result.rows} rows cannot be stored; nothing was: "
                + "; ".join(errors[:20])
                + (" ..." if len(errors) > 20 else ""),
                detail={"errors": errors},
            )
    except BaseException:
        nested.rollback()
        raise
    if dry_run:
        nested.rollback()
    else:
        nested.commit()
    return result


def _field(parse: Any, name: str, cell: Any, *args: Any) -> Any:
    """A cell parsed, or ValueError naming the column and what it holds."""
    try:
        return parse(cell, *args)
    except ValueError:
        shown = "nothing" if _blank(cell) else repr(str(cell))
        raise ValueError(f"{name}: {shown} is not a {_WHAT[name]}") from None


_WHAT = {
    "time": "time (e.g. 2026-03-01 08:00)",
    "from": "date or time (e.g. 2026-03-01)",
    "to": "date or time (e.g. 2026-04-01)",
    "value": "number",
    "amount": "number",
}
