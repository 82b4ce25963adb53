"""Sign-in throttling: backoff per account and per client address, and a bound on the password
hashing that people who are not signed in can cause.

Each wrong password costs argon2 about a tenth of a second of a core (more under load), so a
brute-force run is also a way to starve everyone else of CPU. Three things stop both:

- **Per account**: after ACCOUNT_FREE wrong passwords within WINDOW, each further failure locks
  the account's sign-in for twice as long as the last (1 s, 2 s, 4 s ... up to MAX_LOCK).
- **Per client address** (core.clientaddr, so a forged X-Forwarded-For does not help):
  the same after CLIENT_FREE failures, whatever accounts they tried.
- **Hashing**: at most HASHING password checks run at once; one that cannot start within
  HASH_WAIT is refused. A locked account or address is refused before any hashing. The wait
  for a slot happens on the event loop, holding no worker thread, so a flood of sign-ins
  cannot take the threads that staff's requests need. Passwords are hashed with one lane
  (parallelism 1), so one check uses one core, not all of them.
- **Tarpit**: a refused attempt is answered after TARPIT seconds (on the event loop, holding
  nothing), so a client hammering the form gets one answer a second per connection instead of
  as many as the server can produce.

Refusals answer 429 with Retry-After. A success clears the account's and the address's counts.
In memory, per process, like the report page's limits: `plantroom serve` is one process, and a
restart forgiving the counts is harmless. An attacker can lock a real user out for minutes by
guessing at their account; the lock is short, grows only while the guessing goes on, and the
user's other sessions and tokens keep working.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core.errors import AppError

ACCOUNT_FREE = 5
CLIENT_FREE = 20
WINDOW = 900.0
MAX_LOCK = 900.0
HASHING = 1
HASH_WAIT = 2.0
#: Accounts and addresses counted before the old, unlocked ones are forgotten.
MAX_KEYS = 100_000
#: How long a refused attempt waits before its answer.
TARPIT = 1.0


class TooManyAttempts(AppError):
    """Sign-in refused for a while: too many wrong passwords, or too many checks at once."""

    status_code = 429
    error = "too_many_attempts"

    def __init__(self, message: str, retry_after: float):
        super().__init__(message, detail={"retry_after": math.ceil(retry_after)})
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass
class _Failures:
    count: int
    first: float
    locked_until: float = 0.0


class LoginThrottle:
    """The counts and the hashing bound of one process."""

    def __init__(
        self, *, hash_wait: float = HASH_WAIT, clock: Callable[[], float] = time.monotonic
    ):
        self.hash_wait = hash_wait
        self._clock = clock
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()
        self._hashing = threading.BoundedSemaphore(HASHING)

    def check(self, username: str, client: str) -> None:
        """TooManyAttempts while the account or the address is locked."""
        now = self._clock()
        with self._lock:
            waits = [
                f.locked_until - now
                for key in (f"user:{username.casefold()}", f"client:{client}")
                if (f := self._failures.get(key)) is not None and f.locked_until > now
            ]
        if waits:
            raise TooManyAttempts(
                "too many wrong passwords: wait before trying again", retry_after=max(waits)
            )

    def failed(self, username: str, client: str) -> None:
        """Count a wrong password against the account and the address."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            for key, free in (
                (f"user:{username.casefold()}", ACCOUNT_FREE),
                (f"client:{client}", CLIENT_FREE),
            ):
                f = self._failures.get(key)
                if f is None or (now - f.first > WINDOW and f.locked_until <= now):
                    f = self._failures[key] = _Failures(0, now)
                f.count += 1
                if f.count > free:
                    f.locked_until = now + min(MAX_LOCK, 2.0 ** (f.count - free - 1))

    def succeeded(self, username: str, client: str) -> None:
        """A right password: forget the account's and the address's failures."""
        with self._lock:
            self._failures.pop(f"user:{username.casefold()}", None)
            self._failures.pop(f"client:{client}", None)

    @asynccontextmanager
    async def hashing(self) -> AsyncIterator[None]:
        """Hold one of the password-hashing slots while checking a password; TooManyAttempts
        when none frees up within hash_wait. Waits on the event loop (polling every 50 ms),
        holding no thread, and works on whichever loop runs it."""
        deadline = time.monotonic() + self.hash_wait
        while not self._hashing.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise TooManyAttempts("too many sign-ins at once: try again shortly", retry_after=1)
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            self._hashing.release()

    def _prune(self, now: float) -> None:
        if len(self._failures) < MAX_KEYS:
            return
        for key in [
            k for k, f in self._failures.items() if now - f.first > WINDOW and f.locked_until <= now
        ]:
            del self._failures[key]
