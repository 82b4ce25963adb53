"""Security headers on every answer: no content sniffing anywhere, and for the app's pages a
Content-Security-Policy that allows only the app's own scripts, styles and images, no framing
(clickjacking), and no referrer to other sites.

A page that sets its own policy (the occupant request page, attachment downloads) keeps it: these
are defaults, added only where a header is missing.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Every response.
ALWAYS = {"X-Content-Type-Options": "nosniff"}
#: The app's pages (the path prefixes the root names: the tablet and office UI under /ui):
#: everything they load is served by the app.
PAGES = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
        "object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding the headers above where the response has none of its own."""

    def __init__(self, app: ASGIApp, *, pages: tuple[str, ...]):
        self.app = app
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = dict(ALWAYS)
        if scope["path"].startswith(self.pages):
            extra |= PAGES

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
