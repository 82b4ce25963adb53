"""Process settings from the environment (prefix PLANTROOM_) or a .env file."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.site import SITES_DIR

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_proxies(text: str) -> tuple[Network, ...]:
    """'10.0.0.5, 192.168.1.0/24' as networks; ValueError naming a bad entry."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"PLANTROOM_TRUSTED_PROXIES: {part!r} is not an address or network"
            ) from exc
    return tuple(out)


class Settings(BaseSettings):
    """Where data lives and which servers to use. Everything defaults to the embedded setup."""

    model_config = SettingsConfigDict(env_prefix="PLANTROOM_", env_file=".env", extra="ignore")

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


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
