"""Process settings from the environment (prefix PLANTROOM_) or a .env file.

A PLANTROOM_ variable that nothing reads, usually a misspelt one, is named in a warning at start
(`warn_unread_variables`), with the setting it most looks like: otherwise the setting it meant
would silently keep its default.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, DotEnvSettingsSource, SettingsConfigDict

from config.site import SITES_DIR
from config.yamlloc import env_names
from core.clientaddr import parse_proxies

log = logging.getLogger(__name__)

PREFIX = "PLANTROOM_"
#: PLANTROOM_ variables that other tools read, not these settings (nor a site's ${NAME}s).
READ_ELSEWHERE = {
    "PLANTROOM_HTTP_PORT": "docker-compose.yml: the host port of the api",
    "PLANTROOM_SHOTS": "the browser tests: where screenshots go",
    "PLANTROOM_GRAFANA_INFLUX_URL": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_INFLUX_DATABASE": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_INFLUX_TOKEN": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_INFLUX_USER": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_INFLUX_PASSWORD": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_PG_HOST": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_PG_DATABASE": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_PG_USER": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_PG_PASSWORD": "plantroom dashboards push: the pushed data sources",
    "PLANTROOM_GRAFANA_PG_SSLMODE": "plantroom dashboards push: the pushed data sources",
}
#: The test suite's own variables (tests/conftest.py) start with this.
TEST_PREFIX = "PLANTROOM_TEST_"

#: The largest file one upload may carry unless PLANTROOM_ATTACHMENT_MAX_BYTES says otherwise.
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


class Settings(BaseSettings):
    """Where data lives and which servers to use. Everything defaults to the embedded setup."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    #: SQLAlchemy URL; defaults to SQLite under data_dir. PostgreSQL: postgresql+psycopg://...
    database_url: str | None = None
    site: Path = SITES_DIR / "demo"
    #: A bearer token that acts as an admin (automation and first setup).
    admin_token: str | None = None
    #: Signs session cookies; generated into data_dir when not set.
    secret_key: str | None = None
    #: Mark cookies Secure (HTTPS only). Off only for plain-HTTP local demos.
    cookie_secure: bool = True
    #: The address occupants' phones reach the app at (behind a proxy), for asset QR codes;
    #: unset, the address each request came in on is used.
    public_url: str | None = None
    #: Reverse proxies whose X-Forwarded-For is believed: addresses or networks, comma-separated
    #: (e.g. "127.0.0.1, 10.0.0.0/8"). Empty: the direct peer is the client, whatever it claims.
    trusted_proxies: str = ""
    #: The public report page (/r/<asset>): reports per window from one client address and
    #: about one asset. No limit is shared by everyone (workorders/web/ratelimit.py).
    report_limit_per_client: int = Field(default=20, ge=1)
    report_limit_per_asset: int = Field(default=10, ge=1)
    report_limit_window: float = Field(default=600.0, gt=0)
    #: The largest photo or document one upload to a work order (or the report page) may carry,
    #: in bytes; a bigger one is cut off at the limit and refused with 413.
    attachment_max_bytes: int = Field(default=DEFAULT_ATTACHMENT_MAX_BYTES, gt=0)

    #: InfluxDB 1.x (v1 /write API): e.g. http://127.0.0.1:8086 with influx_database.
    influx_v1_url: str | None = None
    influx_database: str = "plantroom"
    influx_username: str | None = None
    influx_password: str | None = None
    #: InfluxDB 2.x/3.x (v2 API through influxdb-client).
    influx_v2_url: str | None = None
    influx_org: str | None = None
    influx_bucket: str = "plantroom"
    influx_token: str | None = None

    #: How often the collector writes its own health figures (measurement 'collector').
    metrics_interval: float = Field(default=60.0, gt=0)
    #: How often the alert engine's clock moves on without readings (stale rules, storms).
    alert_tick: float = Field(default=5.0, gt=0)

    #: Readings kept in each sink's disk buffer before the oldest are dropped (and counted).
    buffer_max_readings: int = Field(default=5_000_000, gt=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        parse_proxies(value)  # a bad entry is named at start, not on the first request
        return value

    def sqlalchemy_url(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'plantroom.db').resolve()}"


def _site_references(site: Path) -> set[str]:
    """The variables the site's YAML files substitute (${NAME}): site.yaml and the files one
    folder down (its profiles)."""
    folder = site if site.is_dir() else site.parent
    names: set[str] = set()
    if folder.is_dir():
        for f in [*folder.glob("*.yaml"), *folder.glob("*/*.yaml")]:
            try:
                names |= env_names(f.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue  # loading the site names the file
    return names


def unread_variables(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The PLANTROOM_ variables set in the environment or the .env file that no setting, no
    ${NAME} of the site's YAML and no other tool reads, each with where it is set."""
    environ = os.environ if environ is None else environ
    fields = {f"{PREFIX}{name}".upper() for name in type(settings).model_fields}
    read = fields | READ_ELSEWHERE.keys() | {n.upper() for n in _site_references(settings.site)}
    found: dict[str, str] = {}
    env_file = type(settings).model_config.get("env_file")
    if isinstance(env_file, str | Path) and Path(env_file).is_file():
        # pydantic-settings reads it with the names in lower case.
        found |= {n.upper(): str(env_file) for n in DotEnvSettingsSource(type(settings)).env_vars}
    found |= {name: "environment" for name in environ}  # the environment wins, as in Settings
    return {
        name: where
        for name, where in sorted(found.items())
        if name.upper().startswith(PREFIX)
        and not name.upper().startswith(TEST_PREFIX)
        and name.upper() not in read
    }


_warned: set[str] = set()


def warn_unread_variables(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Log a warning naming each unread PLANTROOM_ variable (once per process), with the
    setting it most looks like; the names warned about."""
    fields = [f"{PREFIX}{name}".upper() for name in type(settings).model_fields]
    named = []
    for name, where in unread_variables(settings, environ).items():
        if name in _warned:
            continue
        _warned.add(name)
        named.append(name)
        close = difflib.get_close_matches(name.upper(), fields, n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else ""
        log.warning(
            "%s is set (%s) but no setting reads it%s It is ignored; the settings are in "
            "config/settings.py",
            name,
            where,
            hint or ".",
        )
    return named


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
