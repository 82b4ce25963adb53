"""Sign-in is throttled per account and per client address, and the password hashing people
who are not signed in can cause is bounded (issue 12, item 6). The throttle's clock is moved by
hand, so nothing here waits on the wall clock."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi.testclient import TestClient

from core.auth import service
from core.auth.models import Role
from core.auth.throttle import LoginThrottle
from core.db import Database
from tests.core.auth.accounts import make_user, sign_in

PASSWORD = "the-right-password"


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(client: TestClient) -> Clock:
    c = Clock()
    client.app.state.login_throttle = LoginThrottle(clock=c)  # type: ignore[attr-defined]
    return c


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the server hashes to check (argon2 work), in order."""
    seen: list[str] = []
    real = service.verify_password

    def counting(hashed: str | None, password: str) -> bool:
        seen.append(password)
        return real(hashed, password)

    monkeypatch.setattr(service, "verify_password", counting)
    return seen


def browser(app_client: TestClient, **kw: object) -> TestClient:
    return TestClient(app_client.app, follow_redirects=False, **kw)  # type: ignore[arg-type]


@pytest.mark.slow
def test_an_account_locks_after_five_wrong_passwords_and_backs_off(
    client: TestClient, db: Database, clock: Clock, hashes: list[str]
) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    b = browser(client)
    assert [sign_in(b, "tech", f"guess-{i}").status_code for i in range(6)] == [401] * 6
    # the sixth failure locked the account for 1 s: even the right password waits, unhashed
    before = len(hashes)
    r = sign_in(b, "tech", PASSWORD)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert len(hashes) == before
    clock.now += 1
    assert sign_in(b, "tech", "guess-7").status_code == 401  # 7th failure: locked 2 s
    clock.now += 1
    assert sign_in(b, "tech", PASSWORD).status_code == 429
    clock.now += 1
    assert sign_in(b, "tech", PASSWORD).status_code == 303
    # a success clears the count: five more guesses are free again
    assert [sign_in(b, "tech", f"again-{i}").status_code for i in range(5)] == [401] * 5


@pytest.mark.slow
def test_a_client_locks_after_twenty_failures_whatever_accounts_it_tries(
    client: TestClient, db: Database, clock: Clock
) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    b = browser(client)
    codes = []
    for i in range(21):
        b.headers["X-Forwarded-For"] = f"203.0.113.{i}"  # invented: not a trusted proxy
        codes.append(sign_in(b, f"user-{i}", "guess").status_code)
    assert codes == [401] * 21
    assert sign_in(b, "tech", PASSWORD).status_code == 429
    other = browser(client, client=("192.0.2.9", 5000))  # another tablet
    assert sign_in(other, "tech", PASSWORD).status_code == 303


def test_password_checks_by_people_not_signed_in_run_one_at_a_time(
    client: TestClient, db: Database
) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    throttle = LoginThrottle(hash_wait=0.05)
    client.app.state.login_throttle = throttle  # type: ignore[attr-defined]
    b = browser(client)
    busy, done = threading.Event(), threading.Event()

    def hold() -> None:
        async def slot_taken() -> None:
            async with throttle.hashing():
                busy.set()
                await asyncio.to_thread(done.wait, 10)

        asyncio.run(slot_taken())

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        busy.wait(10)
        r = sign_in(b, "tech", PASSWORD)
        assert r.status_code == 429 and "Retry-After" in r.headers
    finally:
        done.set()
        holder.join()
    assert sign_in(b, "tech", PASSWORD).status_code == 303
