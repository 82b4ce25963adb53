"""Kept list answers and token answers are never stale: whatever changes the data, from any
process, the next request sees it (core.changes, core.response_cache,
core.auth.cache). Each test first makes sure the answer it then expects to change was
being served from the cache, so it tests the cache, not a rebuild."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from config.settings import Settings
from config.site import SiteConfig
from core.auth import service as auth
from core.auth.models import ApiToken, Role, User
from core.changes import ChangeWatch
from core.db import Database
from core.response_cache import ResponseCache
from plantroom.app import create_app
from tests.workorders.accounts import token_for
from workorders.orders import repository, service

MINE = "/api/v1/workorders?assignee=me&open=true"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app_client(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> Iterator[tuple[TestClient, ResponseCache]]:
    """The app and its list cache."""
    app = create_app(settings, site=demo_site, db=db)
    with TestClient(app) as c:
        yield c, app.state.list_cache


@pytest.fixture
def other_process(db: Database) -> Iterator[Database]:
    """The same database through an engine of its own, as `plantroom collect` or the CLI has."""
    other = Database(db.url)
    yield other
    other.dispose()


def _user_id(db: Database, username: str) -> int:
    with db.session() as s:
        return int(s.scalar(select(User.id).where(User.username == username)) or 0)


def _new(db: Database, title: str, assignee: int | None = None, **kw: object) -> int:
    with db.session() as s:
        wo = service.create(s, title=title, actor="test", assignee_id=assignee, **kw)  # type: ignore[arg-type]
        return wo.id


def _titles(c: TestClient, token: str, url: str = MINE) -> list[str]:
    r = c.get(url, headers=_bearer(token))
    assert r.status_code == 200, r.text
    return [w["title"] for w in r.json()["items"]]


def _served_from_cache(c: TestClient, cache: ResponseCache, token: str, url: str = MINE) -> None:
    """Ask twice; the second answer must come from the cache."""
    _titles(c, token, url)
    hits = cache.hits
    _titles(c, token, url)
    assert cache.hits == hits + 1, "the list was not served from the cache"


def test_work_order_assigned_by_another_process_shows_on_the_next_poll(
    app_client: tuple[TestClient, ResponseCache], db: Database, other_process: Database
) -> None:
    c, cache = app_client
    tok = token_for(db, "tech1", Role.technician)
    me = _user_id(db, "tech1")
    _new(db, "Pump 1 vibration", me)
    _served_from_cache(c, cache, tok)
    _new(other_process, "Chiller trip (from an alert)", me)
    assert _titles(c, tok) == ["Chiller trip (from an alert)", "Pump 1 vibration"]


def test_edit_made_in_sql_outside_the_app_shows_at_once(
    app_client: tuple[TestClient, ResponseCache], db: Database, other_process: Database
) -> None:
    c, cache = app_client
    tok = token_for(db, "tech1", Role.technician)
    wo = _new(db, "Pump 1 vibration", _user_id(db, "tech1"))
    _served_from_cache(c, cache, tok)
    with other_process.engine.begin() as conn:
        conn.execute(
            text("UPDATE work_orders SET title = 'Pump 1 bearing' WHERE id = :i"), {"i": wo}
        )
    assert _titles(c, tok) == ["Pump 1 bearing"]


def test_renamed_asset_shows_in_a_kept_list(
    app_client: tuple[TestClient, ResponseCache], db: Database, other_process: Database
) -> None:
    c, cache = app_client
    tok = token_for(db, "tech1", Role.technician)
    _new(db, "Pump check", _user_id(db, "tech1"), asset_id="pump-1")
    _served_from_cache(c, cache, tok)
    with other_process.engine.begin() as conn:
        conn.execute(text("UPDATE assets SET name = 'Booster pump A' WHERE id = 'pump-1'"))
    item = c.get(MINE, headers=_bearer(tok)).json()["items"][0]
    assert item["asset_name"] == "Booster pump A"


def test_reassignment_moves_the_work_order_between_both_lists(
    app_client: tuple[TestClient, ResponseCache], db: Database, other_process: Database
) -> None:
    c, cache = app_client
    a, b = token_for(db, "tech-a", Role.technician), token_for(db, "tech-b", Role.technician)
    a_id, b_id = _user_id(db, "tech-a"), _user_id(db, "tech-b")
    wo = _new(db, "Lift 2 door sensor", a_id)
    _served_from_cache(c, cache, a)
    _served_from_cache(c, cache, b)
    with other_process.session() as s:
        service.assign(
            s,
            wo=repository.get_bare(s, wo),  # type: ignore[arg-type]
            assignee_id=b_id,
            contractor_id=None,
            actor="eng",
            role="engineer",
        )
    assert _titles(c, a) == []
    assert _titles(c, b) == ["Lift 2 door sensor"]


def test_contractor_list_follows_changes_to_its_work(
    app_client: tuple[TestClient, ResponseCache], db: Database, other_process: Database
) -> None:
    c, cache = app_client
    tok = token_for(db, "acme-crew", Role.contractor, org="Acme FM")
    with db.session() as s:
        org = auth.get_or_create_organisation(s, "Acme FM").id
    wo = _new(db, "Roof drain blocked", contractor_id=org)
    url = "/api/v1/workorders"
    _served_from_cache(c, cache, tok, url)
    with other_process.engine.begin() as conn:
        conn.execute(text("UPDATE work_orders SET priority = 'P1' WHERE id = :i"), {"i": wo})
    assert c.get(url, headers=_bearer(tok)).json()["items"][0]["priority"] == "P1"


def test_other_technicians_changes_leave_my_kept_list_alone(
    app_client: tuple[TestClient, ResponseCache], db: Database
) -> None:
    c, cache = app_client
    mine, theirs = token_for(db, "tech1", Role.technician), token_for(db, "tech2", Role.technician)
    _new(db, "My job", _user_id(db, "tech1"))
    _titles(c, mine)
    builds = cache.builds
    for i in range(3):
        _new(db, f"Their job {i}", _user_id(db, "tech2"))
    assert _titles(c, mine) == ["My job"]
    assert cache.builds == builds, "another technician's work made my list stale"
    assert _titles(c, theirs) == ["Their job 2", "Their job 1", "Their job 0"]


def test_unchanged_list_answers_304_and_a_changed_one_200(
    app_client: tuple[TestClient, ResponseCache], db: Database
) -> None:
    c, _ = app_client
    tok = token_for(db, "tech1", Role.technician)
    me = _user_id(db, "tech1")
    _new(db, "Pump 1 vibration", me)
    first = c.get(MINE, headers=_bearer(tok))
    tag = first.headers["etag"]
    again = c.get(MINE, headers={**_bearer(tok), "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    _new(db, "Chiller trip", me)
    changed = c.get(MINE, headers={**_bearer(tok), "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert len(changed.json()["items"]) == 2


def test_token_revoked_by_another_process_is_refused_at_once(
    app_client: tuple[TestClient, ResponseCache], db: Database, other_process: Database
) -> None:
    c, cache = app_client
    tok = token_for(db, "tech1", Role.technician)
    _served_from_cache(c, cache, tok)
    with other_process.session() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.token_hash == auth.token_hash(tok))).one()
        auth.revoke_token(s, token=row)
    r = c.get(MINE, headers=_bearer(tok))
    assert r.status_code == 401 and "revoked" in r.text


def test_user_disabled_by_another_process_is_refused_at_once(
    app_client: tuple[TestClient, ResponseCache], db: Database, other_process: Database
) -> None:
    c, cache = app_client
    tok = token_for(db, "tech1", Role.technician)
    _served_from_cache(c, cache, tok)
    with other_process.engine.begin() as conn:
        conn.execute(text("UPDATE users SET active = false WHERE username = 'tech1'"))
    assert c.get(MINE, headers=_bearer(tok)).status_code == 401


def test_kept_token_stops_working_when_it_expires(
    app_client: tuple[TestClient, ResponseCache], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, cache = app_client
    with db.session() as s:
        user = auth.create_user(s, username="tech1", password=None, role=Role.technician)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        tok = auth.create_token(s, user=user, name="t", expires_at=expires)
    _served_from_cache(c, cache, tok)
    later = expires + dt.timedelta(seconds=1)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    r = c.get(MINE, headers=_bearer(tok))
    assert r.status_code == 401 and "expired" in r.text


def test_kept_token_still_stamps_its_last_use_every_minute(
    app_client: tuple[TestClient, ResponseCache], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, cache = app_client
    tok = token_for(db, "tech1", Role.technician)
    _served_from_cache(c, cache, tok)

    def last_used() -> dt.datetime | None:
        with db.session() as s:
            return s.scalar(
                select(ApiToken.last_used_at).where(ApiToken.token_hash == auth.token_hash(tok))
            )

    before = last_used()
    assert before is not None
    later = before + dt.timedelta(minutes=1, seconds=5)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    assert c.get(MINE, headers=_bearer(tok)).status_code == 200
    assert last_used() == later


def test_kept_list_is_refused_to_a_token_without_the_read_scope(
    app_client: tuple[TestClient, ResponseCache], db: Database
) -> None:
    c, cache = app_client
    reader = token_for(db, "tech1", Role.technician)
    with db.session() as s:
        user = s.scalars(select(User).where(User.username == "tech1")).one()
        writer = auth.create_token(s, user=user, name="writer", scopes=["write"])
    _served_from_cache(c, cache, reader)
    # The first refusal comes from the full route and leaves the token's answer kept; the
    # second meets both a kept token and a kept list for the same user, and must still refuse.
    for _ in range(2):
        r = c.get(MINE, headers=_bearer(writer))
        assert r.status_code == 403 and "read" in r.text


def test_cache_holds_at_most_its_limit_of_answers(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    app = create_app(settings, site=demo_site, db=db)
    app.state.list_cache = ResponseCache(max_entries=2)
    tok = token_for(db, "tech1", Role.technician)
    with TestClient(app) as c:
        for priority in ("P1", "P2", "P3", "P4"):
            assert c.get(f"/api/v1/workorders?priority={priority}", headers=_bearer(tok)).is_success
    assert len(app.state.list_cache) == 2


def test_counter_read_begun_before_a_request_is_not_used_for_it(db: Database) -> None:
    """A request must see every change committed before it arrived, so it may not share a
    counter read that was already under way when it came."""
    started, release = threading.Event(), threading.Event()
    reads: list[int] = []

    class SlowWatch(ChangeWatch):
        def read(self):  # type: ignore[no-untyped-def]
            reads.append(len(reads) + 1)
            n = reads[-1]
            if n == 1:
                started.set()
                release.wait(5)
            return {"workorders": n}

    watch = SlowWatch(db)

    async def scenario() -> tuple[object, object, object]:
        first = asyncio.ensure_future(watch.current())
        await asyncio.to_thread(started.wait, 5)
        # Arriving while the first read is under way: they must wait for a read of their own.
        later = [asyncio.ensure_future(watch.current()) for _ in range(20)]
        await asyncio.sleep(0)
        release.set()
        return await first, await later[0], await asyncio.gather(*later)

    first, second, batch = asyncio.run(scenario())
    assert first == {"workorders": 1}
    assert second == {"workorders": 2}
    assert batch == [{"workorders": 2}] * 20  # one read served all twenty
    assert len(reads) == 2
