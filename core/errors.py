"""One error base class and one handler: every domain error answers {"error", "detail"}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException


class AppError(Exception):
    """A failure the client can act on: a message, an HTTP status and optional detail."""

    status_code = 400
    error = "bad_request"

    def __init__(self, message: str, *, status_code: int | None = None, detail: Any = None):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.detail = detail


class NotFound(AppError):
    """The thing does not exist, or the caller may not know that it does."""

    status_code = 404
    error = "not_found"


class Forbidden(AppError):
    """The caller is known but may not do this."""

    status_code = 403
    error = "forbidden"


class Unauthorized(AppError):
    """No valid credentials."""

    status_code = 401
    error = "unauthorized"


class Conflict(AppError):
    """The request conflicts with the current state."""

    status_code = 409
    error = "conflict"


def install_handlers(app: FastAPI) -> None:
    """Render AppError, validation errors and HTTP errors in one shape."""

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {"error": exc.error, "message": exc.message, "detail": exc.detail},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"field": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse(
            {"error": "invalid_request", "message": "the request is not valid", "detail": detail},
            status_code=422,
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, _exc: StaleDataError) -> JSONResponse:
        # The version moved between our read and our write: with If-Match that is exactly
        # "precondition failed"; without, the client had no version to lose, so it conflicts.
        guarded = "if-match" in request.headers
        return JSONResponse(
            {
                "error": "precondition_failed" if guarded else "conflict",
                "message": "changed by someone else meanwhile; reload and retry",
                "detail": None,
            },
            status_code=412 if guarded else 409,
        )

    @app.exception_handler(PoolTimeout)
    async def _busy(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        return JSONResponse(
            {"error": "busy", "message": "the server is busy; retry shortly", "detail": None},
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, _exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            {"error": "conflict", "message": "conflicts with existing data", "detail": None},
            status_code=409,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail), "detail": None},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
