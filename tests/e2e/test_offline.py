"""Offline first, in real Chromium against the real app (issue 14, item 8): the service worker
keeps the technician's work, actions taken offline queue on the tablet and reach the server once,
with the time they were made; a change that conflicts with the server's is shown with both
versions for the technician to choose; signing out with actions waiting warns first.

Screenshots of each step go to $PLANTROOM_SHOTS/offline (else the test's tmp_path).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import segno
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select

from core.auth.models import User
from tests.e2e.test_tablet_ui import sign_in

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SYNC_TIMEOUT = 30_000
QUEUE_JS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("plantroom-sync");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const req = open.result.transaction("queue").objectStore("queue").getAll();
    req.onsuccess = () => resolve(
      req.result.map(i => ({owner: i.owner, kind: i.kind, state: i.state})));
  };
})"""


@dataclass
class Job:
    """A work order assigned to the technician, with a checklist, raised twenty minutes ago."""

    id: int
    tech_id: int


@pytest.fixture
def job(live_app: LiveApp) -> Job:
    """The technician's job, raised through the API by the admin."""
    with live_app.db.session() as s:
        tech_id = s.scalars(select(User.id).where(User.username == "tech")).one()
    raised = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    with live_app.api("admin") as api:
        r = api.post(
            "/api/v1/workorders",
            json={
                "title": "Booster pump 1: mechanical seal weeping",
                "description": "Water on the plinth under pump 1.",
                "priority": "P2",
                "asset_id": "pump-1",
                "checklist": ["Isolate the pump", "Replace the seal", "Run 10 minutes, check dry"],
                "assignee_id": tech_id,
                "at": raised.isoformat(),
            },
        )
    assert r.status_code == 201, r.text
    return Job(id=r.json()["id"], tech_id=tech_id)


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    """Where this test's screenshots go."""
    root = (
        Path(os.environ["PLANTROOM_SHOTS"]) / "offline"
        if "PLANTROOM_SHOTS" in os.environ
        else tmp_path
    )
    root.mkdir(parents=True, exist_ok=True)
    yield root


def shot(page: Page, folder: Path, name: str, *, full_page: bool = True) -> None:
    """A PNG of this step: the whole page, or what the screen shows (a dialog)."""
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=full_page)
    assert path.read_bytes().startswith(PNG_MAGIC)


def photo() -> bytes:
    """A real PNG, as the tablet's camera would give a photo."""
    buf = io.BytesIO()
    segno.make_qr("seal, pump 1").save(buf, kind="png", scale=6)
    return buf.getvalue()


def badge(page: Page) -> Any:
    """The sync badge in the header."""
    return page.locator("#sync-badge")


def open_job(page: Page, wo_id: int) -> None:
    """The work order's page, drawn from the API, with the service worker in control."""
    page.goto(f"/ui/workorders/{wo_id}")
    expect(page.locator("#wo")).to_be_visible()
    until(
        page, "() => navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller)"
    )


#: tests/e2e/ergonomics.js (touch targets, text size, contrast), over the open dialog only.
ERGONOMICS = (
    (Path(__file__).parent / "ergonomics.js")
    .read_text()
    .replace("() => {", "() => {\n  const ROOT = document.querySelector('dialog[open]');", 1)
    .replace("document.querySelectorAll(", "ROOT.querySelectorAll(")
    .replace("createTreeWalker(document.body", "createTreeWalker(ROOT")
)


def ergonomic(page: Page) -> None:
    """The open dialog has 44 px targets, text of 16 px or more and WCAG AA contrast."""
    found = page.evaluate(ERGONOMICS)
    assert (found["small"], found["tiny"], found["faint"]) == ([], [], []), found


def until(page: Page, js: str, timeout_s: float = 20) -> None:
    """Wait until the page's async function js resolves truthy (wait_for_function does not
    wait for a promise)."""
    for _ in range(int(timeout_s * 5)):
        if page.evaluate(js):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"still false after {timeout_s} s: {js}")


def server(live_app: LiveApp, wo_id: int) -> dict[str, Any]:
    """The work order as the server has it now."""
    with live_app.api("admin") as api:
        r = api.get(f"/api/v1/workorders/{wo_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def when(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_five_actions_and_a_photo_taken_offline_reach_the_server_once_with_their_times(
    page: Page, live_app: LiveApp, job: Job, shots: Path
) -> None:
    sign_in(page, "tech")
    expect(page.locator(f"[data-id='{job.id}']").first).to_be_visible()
    shot(page, shots, "01-my-work-online")
    open_job(page, job.id)
    expect(badge(page)).to_contain_text("Synced")
    shot(page, shots, "02-job-online")

    went_offline = dt.datetime.now(dt.UTC).replace(microsecond=0)
    page.context.set_offline(True)
    page.get_by_role("button", name="Acknowledge").click()
    expect(badge(page)).to_contain_text("Offline")
    expect(badge(page)).to_contain_text("1 waiting to sync")
    page.get_by_role("button", name="Start work").click()
    expect(badge(page)).to_contain_text("2 waiting to sync")
    expect(page.locator("#pending-list li")).to_have_count(2)  # the page has redrawn
    page.locator("#checklist input[type=checkbox]").first.click()  # one tap (check() re-taps)
    expect(badge(page)).to_contain_text("3 waiting to sync")
    page.locator("#comment-text").fill("Seal replaced; weeping stopped.")
    page.locator("#comment-form button").click()
    expect(badge(page)).to_contain_text("4 waiting to sync")
    page.locator("#labor-add summary").click()
    page.locator("#labor-form input[name=hours]").fill("1.5")
    page.locator("#labor-form input[name=note]").fill("Seal change")
    page.locator("#labor-form button").click()
    expect(badge(page)).to_contain_text("5 waiting to sync")
    page.locator("#photo-input").set_input_files(
        {"name": "seal.png", "mimeType": "image/png", "buffer": photo()}
    )
    expect(badge(page)).to_contain_text("6 waiting to sync")
    expect(page.locator("#pending-list li")).to_have_count(6)
    shot(page, shots, "03-six-actions-queued-offline")

    page.reload()  # offline: the service worker serves the page, its scripts and its data
    expect(page.locator("#wo")).to_be_visible()
    expect(page.locator("#title")).to_have_text("Booster pump 1: mechanical seal weeping")
    expect(badge(page)).to_contain_text("Offline")
    expect(badge(page)).to_contain_text("6 waiting to sync")
    shot(page, shots, "04-reloaded-offline")
    assert server(live_app, job.id)["status"] == "assigned"  # nothing reached it yet

    back_online = dt.datetime.now(dt.UTC)
    page.context.set_offline(False)
    expect(badge(page)).to_have_text("Synced", timeout=SYNC_TIMEOUT)
    expect(page.locator("#pending")).to_be_hidden()
    shot(page, shots, "05-synced")

    wo = server(live_app, job.id)
    assert wo["status"] == "in_progress"
    events = wo["events"]
    statuses = [e for e in events if e["kind"] == "status" and e["actor"] == "tech"]
    comments = [e for e in events if e["kind"] == "comment"]
    photos = [e for e in events if e["kind"] == "attachment"]
    assert [e["data"]["to"] for e in statuses] == ["acknowledged", "in_progress"]
    assert [e["message"] for e in comments] == ["Seal replaced; weeping stopped."]
    assert len(photos) == 1
    assert [(x["hours"], x["note"]) for x in wo["labor"]] == [(1.5, "Seal change")]
    assert [i["done"] for i in wo["checklist"]] == [True, None, None]
    with live_app.api("admin") as api:
        files = api.get(f"/api/v1/workorders/{job.id}/attachments").json()
    assert [(f["filename"], f["size"]) for f in files] == [("seal.png", len(photo()))]
    # Each with the time it was made offline, received when the tablet came back online.
    made = [*statuses, *comments, *photos]
    for e in made:
        assert went_offline <= when(e["ts"]) <= back_online, e
        assert when(e["received_at"]) >= back_online, e
    assert went_offline <= when(wo["checklist"][0]["at"]) <= back_online
    assert went_offline <= when(wo["labor"][0]["worked_at"]) <= back_online
    assert when(wo["acknowledged_at"]) == when(statuses[0]["ts"])
    # In the order they were made.
    stamps = [when(e["ts"]) for e in (statuses[0], statuses[1], comments[0], photos[0])]
    assert stamps == sorted(stamps)


def test_an_answer_lost_on_the_way_back_is_replayed_not_applied_twice(
    page: Page, live_app: LiveApp, job: Job, shots: Path
) -> None:
    """The request lands but its answer never reaches the tablet: the retry carries the same
    Idempotency-Key, and the server answers it from its record instead of commenting again."""
    sign_in(page, "tech")
    open_job(page, job.id)
    lost: list[str] = []

    def land_then_drop(route: Route) -> None:
        if route.request.method == "POST" and not lost:
            route.fetch()  # the server gets it and answers...
            lost.append(route.request.header_value("idempotency-key") or "")
            route.abort("connectionreset")  # ...and the answer is lost
        else:
            route.continue_()

    page.route(re.compile(r".*/comments$"), land_then_drop)
    page.locator("#comment-text").fill("Isolated; waiting for the seal kit.")
    page.locator("#comment-form button").click()
    expect(badge(page)).to_contain_text("Offline")  # no answer: as good as offline
    expect(badge(page)).to_contain_text("1 waiting to sync")
    assert lost and lost[0]
    shot(page, shots, "06-answer-lost")
    page.evaluate("PR.flush()")
    expect(badge(page)).to_have_text("Synced", timeout=SYNC_TIMEOUT)
    comments = [e for e in server(live_app, job.id)["events"] if e["kind"] == "comment"]
    assert [c["message"] for c in comments] == ["Isolated; waiting for the seal kit."]


def conflict_dialog(page: Page) -> Any:
    dialog = page.locator("dialog#pr-conflict")
    expect(dialog).to_be_visible(timeout=SYNC_TIMEOUT)
    return dialog


def test_a_conflicting_change_shows_both_versions_and_keeping_the_servers_drops_mine(
    page: Page, live_app: LiveApp, job: Job, shots: Path
) -> None:
    sign_in(page, "tech")
    open_job(page, job.id)
    page.context.set_offline(True)
    page.locator("#checklist input[type=checkbox]").first.click()  # one tap (check() re-taps)
    expect(badge(page)).to_contain_text("1 waiting to sync")
    # Meanwhile, on the server: the engineer's verdict on the same checklist item.
    with live_app.api("admin") as api:
        r = api.post(
            f"/api/v1/workorders/{job.id}/checklist/0",
            json={"done": False, "result": "Not isolated: valve seized"},
        )
        assert r.status_code == 200, r.text
    page.context.set_offline(False)

    dialog = conflict_dialog(page)
    yours, theirs = dialog.locator(".pr-yours"), dialog.locator(".pr-theirs")
    expect(yours).to_contain_text("Checklist: Isolate the pump")
    expect(yours).to_contain_text("Done")
    expect(theirs).to_contain_text("Not done · Not isolated: valve seized (admin)")
    expect(theirs).to_contain_text("Changed by admin")
    expect(badge(page)).to_contain_text("Conflict")
    shot(page, shots, "07-conflict-checklist", full_page=False)
    ergonomic(page)

    dialog.get_by_role("button", name="Keep the server's").click()
    expect(dialog).to_be_hidden()
    expect(badge(page)).to_have_text("Synced", timeout=SYNC_TIMEOUT)
    shot(page, shots, "08-kept-the-servers")
    item = server(live_app, job.id)["checklist"][0]
    assert (item["done"], item["result"], item["by"]) == (
        False,
        "Not isolated: valve seized",
        "admin",
    )
    choices = page.evaluate("PR.log().then(l => l.map(e => [e.choice, e.action.kind]))")
    assert choices == [["server", "check"]]


def test_a_conflicting_change_kept_by_the_technician_is_what_the_server_keeps(
    page: Page, live_app: LiveApp, job: Job, shots: Path
) -> None:
    sign_in(page, "tech")
    open_job(page, job.id)
    page.context.set_offline(True)
    page.get_by_role("button", name="Acknowledge").click()
    expect(badge(page)).to_contain_text("1 waiting to sync")
    expect(page.locator("#pending-list li")).to_have_count(1)  # the page has redrawn
    page.locator("#checklist input[type=checkbox]").first.click()  # one tap (check() re-taps)
    expect(badge(page)).to_contain_text("2 waiting to sync")
    with live_app.api("admin") as api:
        r = api.patch(f"/api/v1/workorders/{job.id}", json={"priority": "P1"})
        assert r.status_code == 200, r.text
    page.context.set_offline(False)

    dialog = conflict_dialog(page)
    expect(dialog.locator(".pr-yours")).to_contain_text("Acknowledged")
    expect(dialog.locator(".pr-theirs")).to_contain_text("Assigned")
    expect(dialog.locator(".pr-theirs")).to_contain_text("Changed by admin")
    expect(dialog.locator(".pr-theirs")).to_contain_text("Priority: P1")
    shot(page, shots, "09-conflict-status", full_page=False)
    ergonomic(page)
    dialog.get_by_role("button", name="Keep mine").click()
    # The checklist tick was made on top of the acknowledgement: it follows it, and it asks
    # again, since the server's change came between.
    dialog = conflict_dialog(page)
    expect(dialog.locator(".pr-yours")).to_contain_text("Checklist: Isolate the pump")
    dialog.get_by_role("button", name="Keep mine").click()
    expect(badge(page)).to_have_text("Synced", timeout=SYNC_TIMEOUT)
    shot(page, shots, "10-kept-mine")

    wo = server(live_app, job.id)
    assert (wo["status"], wo["priority"], wo["checklist"][0]["done"]) == (
        "acknowledged",
        "P1",
        True,
    )
    acks = [e for e in wo["events"] if e["kind"] == "status" and e["actor"] == "tech"]
    assert [e["data"]["to"] for e in acks] == ["acknowledged"]


def test_signing_out_with_actions_waiting_warns_and_keeps_them_for_their_owner(
    page: Page, live_app: LiveApp, job: Job, shots: Path
) -> None:
    sign_in(page, "tech")
    open_job(page, job.id)
    # The server is down (503): the comment waits on the tablet, retried later.
    page.route(re.compile(r".*/comments$"), lambda route: route.fulfill(status=503, body="down"))
    page.locator("#comment-text").fill("Seal kit ordered.")
    page.locator("#comment-form button").click()
    expect(badge(page)).to_contain_text("1 waiting to sync")

    page.get_by_role("button", name="Sign out").click()
    ask = page.locator("dialog#pr-ask")
    expect(ask).to_be_visible()
    expect(ask).to_contain_text("1 change made on this tablet has not reached the server yet.")
    shot(page, shots, "11-sign-out-warning", full_page=False)
    ergonomic(page)
    ask.get_by_role("button", name="Stay signed in").click()
    expect(page).to_have_url(re.compile(rf"/ui/workorders/{job.id}$"))

    page.context.set_offline(True)
    page.get_by_role("button", name="Sign out").click()
    page.locator("dialog#pr-ask").get_by_role("button", name="Sign out, keep them here").click()
    offline = page.locator("dialog#pr-ask")
    expect(offline).to_contain_text("Signing out needs the network")
    shot(page, shots, "12-sign-out-offline", full_page=False)
    offline.get_by_role("button", name="OK").click()
    page.context.set_offline(False)

    page.get_by_role("button", name="Sign out").click()
    page.locator("dialog#pr-ask").get_by_role("button", name="Sign out, keep them here").click()
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    assert page.evaluate(QUEUE_JS) == [{"owner": job.tech_id, "kind": "comment", "state": "queued"}]
    assert page.evaluate("caches.keys().then(k => k.filter(n => /pr-(pages|data)/.test(n)))") == []
    page.unroute(re.compile(r".*/comments$"))

    # Someone else signs in on the tablet: the technician's comment is neither theirs to see
    # nor sent in their name.
    sign_in(page, "admin")
    open_job(page, job.id)
    expect(badge(page)).to_have_text("Synced")
    assert page.evaluate("PR.api.pending()") == []
    shot(page, shots, "13-another-user")
    assert not [e for e in server(live_app, job.id)["events"] if e["kind"] == "comment"]
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/login$"))

    # The technician again: it syncs, once, in their name.
    sign_in(page, "tech")
    expect(badge(page)).to_have_text("Synced", timeout=SYNC_TIMEOUT)
    comments = [e for e in server(live_app, job.id)["events"] if e["kind"] == "comment"]
    assert [(c["message"], c["actor"]) for c in comments] == [("Seal kit ordered.", "tech")]
    assert page.evaluate(QUEUE_JS) == []


def test_a_refused_action_is_shown_as_failed_holds_up_nothing_and_can_be_discarded(
    page: Page, live_app: LiveApp, job: Job, shots: Path
) -> None:
    sign_in(page, "tech")
    open_job(page, job.id)
    page.context.set_offline(True)
    # 30 hours in a day: the API refuses it (422) when it arrives. (The page's form would not
    # let it through; a stale or buggy client might.)
    page.evaluate(
        """id => PR.api.act({woId: id, kind: "labor", label: "Labor 30 h", method: "POST",
                             url: "/api/v1/workorders/" + id + "/labor", body: {hours: 30}})""",
        job.id,
    )
    page.locator("#comment-text").fill("Pump house door jammed, used the side door.")
    page.locator("#comment-form button").click()
    expect(badge(page)).to_contain_text("2 waiting to sync")
    page.context.set_offline(False)

    expect(badge(page)).to_contain_text("1 failed", timeout=SYNC_TIMEOUT)
    comments = [e for e in server(live_app, job.id)["events"] if e["kind"] == "comment"]
    assert [c["message"] for c in comments] == ["Pump house door jammed, used the side door."]
    assert server(live_app, job.id)["labor"] == []
    page.locator("#sync-badge button").click()
    panel = page.locator("dialog#pr-queue")
    expect(panel).to_be_visible()
    failed = panel.locator("li.pr-failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Labor 30 h")
    expect(failed).to_contain_text("Failed: hours: Input should be less than or equal to 24")
    shot(page, shots, "14-failed-action", full_page=False)
    ergonomic(page)
    failed.get_by_role("button", name="Discard").click()
    expect(panel).to_be_hidden()
    expect(badge(page)).to_have_text("Synced")
    assert page.evaluate("PR.api.pending()") == []
    assert page.evaluate("PR.log().then(l => l.map(e => [e.choice, e.action.kind]))") == [
        ["discard", "labor"]
    ]


def test_a_work_order_never_opened_on_the_tablet_opens_offline_from_the_kept_data(
    page: Page, live_app: LiveApp, job: Job, shots: Path
) -> None:
    with live_app.api("admin") as api:
        r = api.post(
            "/api/v1/workorders",
            json={
                "title": "Lift B1: door sensor intermittent",
                "priority": "P3",
                "asset_id": "lift-b1",
                "assignee_id": job.tech_id,
            },
        )
        assert r.status_code == 201, r.text
        other = r.json()["id"]
    sign_in(page, "tech")  # my work loads, and the tablet keeps my open work for offline
    expect(page.locator(f"[data-id='{other}']").first).to_be_visible()
    kept = [f"/api/v1/workorders/{other}", f"/ui/workorders/{other}", "/api/v1/assets/lift-b1"]
    until(page, f"() => Promise.all({kept}.map(u => caches.match(u))).then(r => r.every(Boolean))")
    open_job(page, job.id)  # one work-order page opened online; the other never was
    page.evaluate(f"caches.open('pr-pages-1').then(c => c.delete('/ui/workorders/{other}'))")

    page.context.set_offline(True)
    page.goto(f"/ui/workorders/{other}")
    expect(page.locator("#title")).to_have_text("Lift B1: door sensor intermittent")
    expect(badge(page)).to_contain_text("Offline")
    shot(page, shots, "15-never-opened-offline")
    page.get_by_role("link", name=re.compile("Passenger lift B1")).first.click()
    expect(page).to_have_url(re.compile(r"/ui/assets/lift-b1$"))
    expect(page.get_by_role("heading", name="Passenger lift B1")).to_be_visible()
    shot(page, shots, "16-asset-offline")
    page.goto("/ui/?tab=mine")
    expect(page.locator(f"[data-id='{other}']").first).to_be_visible()
    shot(page, shots, "17-my-work-offline")


def test_a_replay_that_finds_its_first_attempt_still_running_retries_with_the_same_key(
    page: Page, live_app: LiveApp, job: Job
) -> None:
    """409 from the idempotency middleware means "still running": the retry must carry the same
    key (a new one could apply the change twice)."""
    sign_in(page, "tech")
    open_job(page, job.id)
    keys: list[str] = []

    def busy_first(route: Route) -> None:
        keys.append(route.request.header_value("idempotency-key") or "")
        if len(keys) == 1:
            route.fulfill(
                status=409,
                content_type="application/json",
                body='{"error": "idempotency_key_in_use", "message": "retry", "detail": null}',
            )
        else:
            route.continue_()

    page.route(re.compile(r".*/comments$"), busy_first)
    page.locator("#comment-text").fill("Valve freed with penetrating oil.")
    page.locator("#comment-form button").click()
    for _ in range(100):  # the first answer says "still running", the retry goes through
        if len(keys) >= 2:
            break
        page.wait_for_timeout(100)
    expect(badge(page)).to_have_text("Synced", timeout=SYNC_TIMEOUT)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    comments = [e for e in server(live_app, job.id)["events"] if e["kind"] == "comment"]
    assert [c["message"] for c in comments] == ["Valve freed with penetrating oil."]


def test_the_next_user_never_sees_what_the_last_one_kept_even_without_a_sign_out(
    page: Page, live_app: LiveApp, job: Job
) -> None:
    sign_in(page, "tech")  # the tablet keeps the technician's work for offline
    kept = f"/api/v1/workorders/{job.id}"
    until(page, f"() => caches.match('{kept}').then(Boolean)")
    open_job(page, job.id)
    # The session ends without a sign-out (it expired, or the cookie was cleared), and the
    # admin signs in on the same tablet with the network so slow that reads fall back to the
    # kept copies: nothing of the technician's may be among them.
    page.context.clear_cookies()
    page.goto("/ui/login")
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill("admin-demo")
    page.route("**/api/v1/**", lambda route: page.wait_for_timeout(5000) or route.continue_())
    page.locator("form.login button").click()
    # The office lands on the overview; signing in hashes a password, slow on a busy machine.
    expect(page).to_have_url(re.compile(r"/ui/overview(\?.*)?$"), timeout=30_000)
    expect(page.locator("header")).to_contain_text("Zhang Min")
    assert page.evaluate(f"caches.match('{kept}').then(Boolean)") is False
    assert page.evaluate("caches.open('pr-pages-1').then(c => c.keys()).then(k => k.length)") <= 1
