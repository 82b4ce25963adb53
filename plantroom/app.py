"""create_app: the API, the tablet UI and their shared state."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from alerts.routes import router as alerts_router
from analytics.ageing_routes import router as ageing_router
from analytics.baseline_routes import router as baseline_router
from analytics.kpi_routes import router as kpi_router
from analytics.meter_routes import router as meters_router
from analytics.offline.routes import router as offline_router
from analytics.routes import router as energy_router
from analytics.web import routes as energy_pages
from analytics.web.ageing_routes import router as ageing_pages
from collectors.health import configured_health_reader
from collectors.sinks.readers import configured_reader
from config.settings import Settings
from config.site import SiteConfig
from core import openapi
from core.auth.cache import TokenCache
from core.auth.deps import MetricsPrincipal
from core.auth.routes import router as auth_router
from core.changes import ChangeWatch
from core.clientaddr import parse_proxies
from core.db import Database
from core.errors import NotFound, install_handlers
from core.idempotency import IdempotencyMiddleware, clear_unfinished
from core.response_cache import ResponseCache
from core.security_headers import SecurityHeaders
from core.strict_query import refuse_unknown_query
from plantroom import migrate
from plantroom.scheduler import WorkOrderServices
from plantroom.site import load_site
from workorders.assets.routes import router as assets_router
from workorders.assets.service import sync_locations
from workorders.attachments.routes import router as attachments_router
from workorders.contractors.routes import router as contractors_router
from workorders.orders import service as workorders
from workorders.orders.defaults import unknown_users
from workorders.orders.office_routes import router as office_router
from workorders.orders.routes import router as workorders_router
from workorders.overview.routes import router as overview_router
from workorders.plant.routes import router as plant_router
from workorders.pm.routes import router as pm_router
from workorders.sla import calendars
from workorders.sla import service as sla_service
from workorders.sla.routes import router as calendar_router
from workorders.web.admin_routes import router as admin_pages
from workorders.web.contractor_routes import router as contractor_pages
from workorders.web.overview_routes import router as overview_pages
from workorders.web.plant_routes import router as plant_pages
from workorders.web.pwa_routes import router as pwa_router
from workorders.web.request_routes import router as requests_router
from workorders.web.routes import HERE as WEB_DIR
from workorders.web.routes import router as web_router
from workorders.webhooks.routes import router as webhooks_router

log = logging.getLogger(__name__)


def secret_key(settings: Settings) -> str:
    """The session-signing key: from settings, else generated once into the data directory."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


#: The PostgreSQL advisory lock that serialises mirroring the site into the database.
SITE_SYNC_LOCK = 7318024917


def prepare_database(settings: Settings, site: SiteConfig) -> Database:
    """Migrate the database to head and mirror the site's assets into it."""
    url = settings.sqlalchemy_url()
    db = Database(url)
    migrate.upgrade(url)
    with db.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            # The api and every collector start together (docker-compose) and mirror the same
            # site: one at a time, so none of them dies on another's insert.
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SITE_SYNC_LOCK})
        workorders.sync_assets(s, site)
        sync_locations(s, site)  # after the assets: it places each one in its location
        sla_service.sync_contractors(s, site)
    return db


def warn_unknown_assignees(db: Database, site: SiteConfig) -> None:
    """Log each default assignee (site.yaml ``assignment:``) the database has no fit user for,
    at file:line: the loader cannot see users, and such work orders open unassigned."""
    with db.session() as s:
        for problem in unknown_users(s, site):
            log.warning("%s", problem)


def create_app(
    settings: Settings,
    *,
    site: SiteConfig | None = None,
    db: Database | None = None,
    background: bool = False,
) -> FastAPI:
    """The FastAPI application. Migrates the database unless a ready Database is given.

    With background=True its lifespan also runs the work-order services (PM generation, the SLA
    sweep, webhook delivery); `plantroom serve` asks for that. Tests leave it off, so no job
    races a test that drives the clock by hand.
    """
    site = site or load_site(settings.site)
    calendars.install(site.doc.calendar.holidays)
    db = db or prepare_database(settings, site)
    warn_unknown_assignees(db, site)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = (
            WorkOrderServices(db, site, public_url=settings.public_url, settings=settings)
            if background
            else None
        )
        if services is not None:
            # The serving process starts: no request of its own is in flight, so a key still
            # marked unfinished belongs to a request killed with the process before.
            await asyncio.to_thread(clear_unfinished, db)
            services.start()
        try:
            yield
        finally:
            if services is not None:
                await asyncio.to_thread(services.stop)
            app.state.readings.close()
            app.state.health.close()

    app = FastAPI(
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query)],
        title="Plantroom",
        version="0.1.0",
        description="Building-facilities monitoring and maintenance work orders.",
        openapi_url="/openapi.json",
        # FastAPI's /docs and /redoc pages load their scripts from a CDN; sites are often
        # offline, so they are off and /openapi.json is the description.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.trusted_proxies = parse_proxies(settings.trusted_proxies)
    app.state.site = site
    app.state.db = db
    app.state.secret_key = secret_key(settings)
    app.state.changes = ChangeWatch(db)
    app.state.tokens = TokenCache(db)
    app.state.list_cache = ResponseCache()
    #: The store GET /assets/{id}/readings reads: InfluxDB when configured, else embedded.
    app.state.readings = configured_reader(settings)
    #: Where the overview reads the collectors' own health records: the same store.
    app.state.health = configured_health_reader(settings)
    install_handlers(app)
    app.add_middleware(IdempotencyMiddleware, db=db)
    app.add_middleware(SecurityHeaders, pages=("/ui",))
    app.include_router(workorders_router)
    app.include_router(office_router)
    app.include_router(alerts_router)
    app.include_router(auth_router)
    app.include_router(assets_router)
    app.include_router(contractors_router)
    app.include_router(calendar_router)
    app.include_router(webhooks_router)
    app.include_router(overview_router)
    app.include_router(requests_router)
    app.include_router(attachments_router)
    app.include_router(web_router)
    app.include_router(pwa_router)
    app.include_router(contractor_pages)
    app.include_router(overview_pages)
    app.include_router(plant_pages)
    app.include_router(pm_router)
    app.include_router(plant_router)
    app.include_router(admin_pages)
    app.include_router(energy_router)
    app.include_router(offline_router)
    app.include_router(baseline_router)
    app.include_router(ageing_router)
    app.include_router(meters_router)
    app.include_router(kpi_router)
    app.include_router(energy_pages.router)
    app.include_router(ageing_pages)
    app.mount(energy_pages.STATIC_URL, energy_pages.static_files(), name=energy_pages.STATIC_NAME)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    app.state.metrics = None  # set by whoever runs a collector in this process

    @app.get(
        "/metrics",
        tags=["health"],
        response_class=PlainTextResponse,
        responses={
            401: {"description": "no valid bearer token"},
            403: {"description": "neither an admin nor a token with the 'metrics' scope"},
            404: {"description": "no collector runs in this process"},
        },
    )
    def prometheus_metrics(_who: MetricsPrincipal) -> PlainTextResponse:
        """The collector's health in Prometheus text format: polls, errors, timeouts, skipped
        ticks and quarantine per device; requests and reconnects per link; buffer depth and
        drops per sink. Needs an admin, or a token with the 'metrics' scope (it names devices
        and their gateways); `plantroom collect`'s own listener, on loopback, needs none."""
        render = app.state.metrics
        if render is None:
            raise NotFound("no collector runs in this process; see `plantroom collect`")
        return PlainTextResponse(render(), media_type="text/plain; version=0.0.4")

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: no authentication."""
        return {"status": "ok"}

    openapi.install(app)
    return app
