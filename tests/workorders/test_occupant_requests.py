"""The public report page behind an asset's QR code: no login, CSRF, rate limits, languages."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import Settings
from config.site import SiteConfig
from core.clientaddr import parse_proxies
from core.db import Database
from workorders.attachments import service as attachments
from workorders.orders.models import Asset, Attachment, WorkOrder
from workorders.web.ratelimit import RequestLimiter
from workorders.web.request_routes import CSRF_COOKIE

NO_AUTH = {"Authorization": ""}


class FakeClock:
    """A clock the test moves by hand: the limiter's refill is then exact, not wall-clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def public(client: TestClient) -> TestClient:
    """The app as an occupant's phone sees it: no bearer token."""
    client.headers.pop("Authorization", None)
    return client


def _png() -> bytes:
    buf = io.BytesIO()
    segno.make_qr("a photo of a leak").save(buf, kind="png", scale=4)
    return buf.getvalue()


def _csrf(page_html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page_html)
    assert m, "the form carries a CSRF token"
    return m.group(1)


def _report(
    c: TestClient,
    asset: str = "pump-1",
    description: str = "Water dripping from the pump seal",
    contact: str = "",
    photo: tuple[str, bytes, str] | None = None,
    lang: str = "",
) -> tuple[int, str, dict[str, str]]:
    page = c.get(f"/r/{asset}" + (f"?lang={lang}" if lang else ""))
    files = {"photo": photo} if photo else {"photo": ("", b"", "application/octet-stream")}
    r = c.post(
        f"/r/{asset}" + (f"?lang={lang}" if lang else ""),
        data={"csrf": _csrf(page.text), "description": description, "contact": contact},
        files=files,
        follow_redirects=False,
    )
    return r.status_code, r.text, dict(r.headers)


def _work_orders(db: Database) -> list[WorkOrder]:
    with db.session() as s:
        rows = list(s.scalars(select(WorkOrder).order_by(WorkOrder.id)))
        for r in rows:
            s.expunge(r)
        return rows


def test_the_page_shows_the_asset_and_a_form_without_login(
    public: TestClient, demo_site: SiteConfig
) -> None:
    ref = demo_site.asset("lift-b1")
    r = public.get("/r/lift-b1")
    assert r.status_code == 200
    assert ref.asset.name in r.text and ref.location in r.text
    assert 'name="description"' in r.text and 'maxlength="2000"' in r.text
    assert 'type="file"' in r.text and 'name="contact"' in r.text
    assert (
        CSRF_COOKIE in r.headers["set-cookie"]
        and "samesite=strict" in r.headers["set-cookie"].lower()
    )


def test_unknown_and_retired_assets_answer_a_404_page(public: TestClient, db: Database) -> None:
    r = public.get("/r/no-such-asset")
    assert r.status_code == 404 and "not in use" in r.text
    with db.session() as s:
        a = s.get(Asset, "pump-2")
        assert a is not None
        a.active = False
    assert public.get("/r/pump-2").status_code == 404
    assert public.post("/r/pump-2", data={"description": "x"}).status_code == 404
    assert _work_orders(db) == []


def test_a_report_opens_a_request_work_order_with_its_photo_and_contact(
    public: TestClient, db: Database, settings: Settings
) -> None:
    png = _png()
    status, _, headers = _report(
        public,
        description="Water dripping from the pump seal\nPuddle near the door",
        contact="Wang, ext. 3021",
        photo=("IMG_1234.PNG", png, "image/png"),
    )
    assert status == 303
    thanks = public.get(headers["location"])
    assert thanks.status_code == 200
    (wo,) = _work_orders(db)
    assert re.search(rf"#{wo.id}\b", thanks.text), "the thank-you page shows the reference"
    assert (wo.type, wo.origin, wo.priority, wo.status) == ("request", "request", "P3", "new")
    assert wo.created_by == "occupant" and wo.asset_id == "pump-1"
    # Requests run on the site's P3 SLA like any other P3 job.
    assert wo.sla_policy is not None and wo.sla_policy["priority"] == "P3"
    assert wo.resolution_due_at is not None
    assert wo.reporter_contact == "Wang, ext. 3021"
    assert wo.description.startswith("Water dripping") and "Puddle" in wo.description
    assert "Water dripping from the pump seal" in wo.title
    with db.session() as s:
        (att,) = s.scalars(select(Attachment).where(Attachment.workorder_id == wo.id))
        assert att.content_type == "image/png" and att.size == len(png)
        assert att.uploaded_by == "occupant"
        stored = attachments.root(settings) / att.path
    assert stored.read_bytes() == png


def test_a_report_without_photo_or_contact_is_accepted(public: TestClient, db: Database) -> None:
    status, _, _ = _report(public, description="Lift B1 makes a grinding noise", asset="lift-b1")
    assert status == 303
    (wo,) = _work_orders(db)
    assert wo.reporter_contact is None
    with db.session() as s:
        assert list(s.scalars(select(Attachment))) == []


def test_a_post_without_the_csrf_cookie_is_refused_and_opens_nothing(
    public: TestClient, db: Database
) -> None:
    page = public.get("/r/pump-1")
    token = _csrf(page.text)
    public.cookies.clear()  # another site's form cannot send our cookie
    no_photo = {"photo": ("", b"", "application/octet-stream")}
    r = public.post("/r/pump-1", data={"csrf": token, "description": "spam"}, files=no_photo)
    assert r.status_code == 403 and "expired" in r.text
    assert 'value="spam"' not in r.text and ">spam</textarea>" in r.text
    public.get("/r/pump-1")
    forged = public.post(
        "/r/pump-1", data={"csrf": "x" * 32, "description": "spam"}, files=no_photo
    )
    assert forged.status_code == 403
    assert _work_orders(db) == []


@pytest.mark.parametrize(
    ("description", "message"),
    [("   ", "Please describe the problem"), ("x" * 2001, "2000 characters or fewer")],
    ids=["empty", "too-long"],
)
def test_the_description_is_required_and_at_most_2000_characters(
    public: TestClient, db: Database, description: str, message: str
) -> None:
    status, body, _ = _report(public, description=description, contact="Li")
    assert status == 422 and message in body
    assert 'value="Li"' in body, "what was typed is kept"
    assert _work_orders(db) == []


def test_exactly_2000_characters_are_accepted(public: TestClient, db: Database) -> None:
    status, _, _ = _report(public, description="漏" * 2000)
    assert status == 303
    assert len(_work_orders(db)[0].description) == 2000


def test_a_photo_that_is_not_an_image_is_refused_415(public: TestClient, db: Database) -> None:
    pdf = b"%PDF-1.4\n%%EOF\n"
    status, body, _ = _report(public, photo=("leak.jpg", pdf, "image/jpeg"))
    assert status == 415 and "JPEG, PNG, WebP or HEIC" in body
    assert _work_orders(db) == []


def test_a_photo_over_the_limit_is_refused_413_keeping_the_text(
    public: TestClient, db: Database
) -> None:
    big = b"\xff\xd8\xff\xe0" + b"\x00" * attachments.DEFAULT_MAX_BYTES
    status, body, _ = _report(
        public, description="Broken tap", photo=("big.jpg", big, "image/jpeg")
    )
    assert status == 413 and "larger than 10 MB" in body
    assert ">Broken tap</textarea>" in body
    assert _work_orders(db) == []


def test_too_many_reports_from_one_client_answer_429_with_retry_after(
    public: TestClient, db: Database
) -> None:
    clock = FakeClock()
    public.app.state.report_limiter = RequestLimiter(  # type: ignore[attr-defined]
        per_client=2, per_asset=100, window=600, clock=clock
    )
    assert _report(public)[0] == 303
    assert _report(public)[0] == 303
    status, body, headers = _report(public)
    assert status == 429 and "Too many reports" in body
    assert headers["retry-after"] == "300"  # one report refills every 600 s / 2
    assert len(_work_orders(db)) == 2
    clock.now += 300
    assert _report(public)[0] == 303
    assert len(_work_orders(db)) == 3


def test_a_flood_on_one_asset_leaves_every_other_asset_open() -> None:
    """No budget is shared by everyone: many addresses spamming one asset's QR code fill that
    asset's bucket only, and an occupant elsewhere reports as usual."""
    clock = FakeClock()
    lim = RequestLimiter(per_client=5, per_asset=3, window=600, clock=clock)
    flood = [lim.take(f"10.0.0.{i}", "pump-1") for i in range(1, 50)]
    assert flood[:3] == [0.0, 0.0, 0.0] and all(w > 0 for w in flood[3:])
    assert lim.take("10.0.0.77", "lift-b1") == 0.0
    assert lim.take("10.0.0.1", "lift-b1") == 0.0  # a flooder's own budget is per client


def test_one_client_over_its_limit_does_not_hold_back_another() -> None:
    clock = FakeClock()
    lim = RequestLimiter(per_client=1, per_asset=100, window=60, clock=clock)
    assert lim.take("a", "pump-1") == 0.0
    assert lim.take("a", "pump-1") == pytest.approx(60.0)
    assert lim.take("b", "pump-1") == 0.0


def test_asking_spends_nothing() -> None:
    lim = RequestLimiter(per_client=1, per_asset=1, window=60, clock=FakeClock())
    assert [lim.wait("a", "pump-1") for _ in range(5)] == [0.0] * 5
    assert lim.take("a", "pump-1") == 0.0


@pytest.mark.slow
def test_an_invented_forwarded_address_does_not_buy_more_reports(
    public: TestClient, db: Database
) -> None:
    """X-Forwarded-For is believed only from PLANTROOM_TRUSTED_PROXIES (none here)."""
    public.app.state.report_limiter = RequestLimiter(  # type: ignore[attr-defined]
        per_client=2, per_asset=100, window=600, clock=FakeClock()
    )
    codes = []
    for i in range(5):
        public.headers["X-Forwarded-For"] = f"203.0.113.{i}"
        codes.append(_report(public)[0])
    assert codes == [303, 303, 429, 429, 429]
    assert len(_work_orders(db)) == 2


def test_a_trusted_proxy_passes_the_occupant_address_on(public: TestClient, db: Database) -> None:
    proxy = TestClient(public.app, client=("127.0.0.1", 40000))  # the proxy is the peer
    proxy.app.state.trusted_proxies = parse_proxies("127.0.0.0/8")  # type: ignore[attr-defined]
    proxy.app.state.report_limiter = RequestLimiter(  # type: ignore[attr-defined]
        per_client=1, per_asset=100, window=600, clock=FakeClock()
    )
    codes = []
    for phone in ("198.51.100.7", "198.51.100.8", "198.51.100.7"):
        proxy.headers["X-Forwarded-For"] = f"{phone}, 127.0.0.2"
        codes.append(_report(proxy)[0])
    assert codes == [303, 303, 429]


@pytest.mark.slow
def test_a_post_without_a_valid_form_spends_no_report(public: TestClient, db: Database) -> None:
    public.app.state.report_limiter = RequestLimiter(  # type: ignore[attr-defined]
        per_client=1, per_asset=100, window=600, clock=FakeClock()
    )
    public.get("/r/pump-1")
    for _ in range(3):  # forged posts: no CSRF token
        r = public.post("/r/pump-1", data={"description": "x"}, files={"photo": ("", b"", "x")})
        assert r.status_code == 403
    assert _report(public)[0] == 303


def test_the_page_speaks_simplified_chinese_by_query_or_browser_language(
    public: TestClient, db: Database
) -> None:
    by_query = public.get("/r/pump-1?lang=zh-CN")
    assert '<html lang="zh-CN">' in by_query.text and "报告设备问题" in by_query.text
    public.cookies.clear()
    by_header = public.get("/r/pump-1", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "出了什么问题" in by_header.text
    english = public.get("/r/pump-1", headers={"Accept-Language": "en-GB"})
    assert "What is wrong?" in english.text
    status, _, headers = _report(public, lang="zh-CN")
    assert status == 303
    assert "感谢您的反馈" in public.get(headers["location"]).text


def test_a_forged_reference_on_the_thank_you_page_is_404(public: TestClient) -> None:
    assert public.get("/r/pump-1/thanks?ref=1").status_code == 404
    assert public.get("/r/pump-1/thanks").status_code == 404


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k in ("src", "href", "action") and v:
                self.urls.append(v)


def test_the_page_loads_nothing_from_other_sites_and_cannot_be_framed(public: TestClient) -> None:
    r = public.get("/r/pump-1")
    parser = _Links()
    parser.feed(r.text)
    assert parser.urls, "the page links its stylesheet"
    for url in parser.urls:
        assert url.startswith(("/", "?", "http://testserver/")), url
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in r.text.lower()
    css = public.get("/static/request.css")
    assert css.status_code == 200 and "url(" not in css.text and "@import" not in css.text


def test_control_characters_are_dropped_and_odd_paths_are_404(
    public: TestClient, db: Database
) -> None:
    assert public.get("/r/pump%00-1").status_code == 404
    assert public.get("/r/" + "p" * 101).status_code == 404
    status, _, _ = _report(public, description="Leak\x00 by\x07 the door\nsince 8 am")
    assert status == 303
    assert _work_orders(db)[0].description == "Leak by the door\nsince 8 am"
