"""Bearer-token answers reused between requests, for exactly as long as they stay true.

Checking a token reads the token and its user from the database, in a worker thread. A tablet
polling its list sends the same token over and over, so the answer is kept in memory (keyed by
the token's SHA-256, as it is stored) and reused while all of these hold:

- the ACCESS change counter is what it was when the answer was made (core.changes): any
  revocation, scope or expiry change, token deletion, or change to its user's role,
  organisation, name or active flag, in this process or any other, bumps it;
- the token has not expired since (checked against the clock on every request);
- its last-used stamp is not due: the database is asked again once a minute per token, which
  also refreshes `last_used_at` as before.

A refused token is never kept: each attempt with one asks the database.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from core.auth import service
from core.auth.service import Principal, TokenCheck
from core.changes import ACCESS, Versions, request_versions
from core.db import Database
from core.errors import Unauthorized

#: Tokens remembered at once (least recently used dropped first).
MAX_TOKENS = 10_000


@dataclass(frozen=True)
class _Entry:
    check: TokenCheck
    access: int


class TokenCache:
    """Principals of recently seen bearer tokens; see the module's docstring."""

    def __init__(self, db: Database, max_tokens: int = MAX_TOKENS):
        self.db = db
        self.max_tokens = max_tokens
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def cached(
        self, token: str, versions: Versions | None, admin_token: str | None
    ) -> Principal | None:
        """Who token belongs to, if that is known without asking the database; else None."""
        return self._lookup(token, versions, admin_token)[0]

    def _lookup(
        self, token: str, versions: Versions | None, admin_token: str | None
    ) -> tuple[Principal | None, str, int | None]:
        """(the known principal or None, the token's key, the ACCESS counter or None)."""
        admin = service.admin_token_principal(token, admin_token)
        access = None if versions is None else versions.get(ACCESS, 0)
        key = service.token_hash(token)
        if admin is not None:
            return admin, key, access
        entry = self._entries.get(key)
        if entry is None or access is None or not self._fresh(entry, access):
            return None, key, access
        self._entries.move_to_end(key)
        return entry.check.principal, key, access

    async def principal(self, request: Request, token: str, admin_token: str | None) -> Principal:
        """Who token belongs to, or Unauthorized."""
        who, key, access = self._lookup(token, await request_versions(request), admin_token)
        if who is not None:
            return who
        try:
            check = await run_in_threadpool(self._check, token)
        except Unauthorized:
            self._entries.pop(key, None)
            raise
        if access is not None:
            self._entries[key] = _Entry(check, access)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_tokens:
                self._entries.popitem(last=False)
        return check.principal

    @staticmethod
    def _fresh(entry: _Entry, access: int) -> bool:
        now = service.utcnow()
        check = entry.check
        return (
            entry.access == access
            and (check.expires_at is None or now < check.expires_at)
            and (check.stamp_due is None or now < check.stamp_due)
        )

    def _check(self, token: str) -> TokenCheck:
        # Its own session, committed here: a last_used_at stamp holds SQLite's write lock, which
        # must be released in this thread, before the endpoint waits for a thread of its own.
        with self.db.session() as s:
            return service.check_token(s, token, None)
