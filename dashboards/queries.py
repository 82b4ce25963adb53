"""Typed panel queries for the two data sources Plantroom's dashboards read.

grafana-foundation-sdk has no query type for InfluxDB or for PostgreSQL, so these are the two
small ones it lacks: each is a model (a ``cogvariants.Dataquery`` that serialises to the JSON
Grafana stores for the data source plugin) and a builder in the SDK's fluent style.

- ``InfluxQL``: the ``influxdb`` plugin in InfluxQL mode with a raw query, the form InfluxDB 1.x,
  2.x (through its v1 /query and a DBRP mapping) and 3.x all accept.
- ``SQL``: the ``grafana-postgresql-datasource`` plugin (Grafana 10.3+'s id for PostgreSQL) with
  raw SQL in the code editor.
"""

from __future__ import annotations

import typing

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

INFLUXDB = "influxdb"
POSTGRESQL = "grafana-postgresql-datasource"

InfluxResultFormat = typing.Literal["time_series", "table", "logs"]
SQLFormat = typing.Literal["time_series", "table"]


class InfluxQLQuery(cogvariants.Dataquery):
    """One raw InfluxQL target of an ``influxdb`` panel."""

    def __init__(
        self,
        query: str = "",
        ref_id: str = "A",
        result_format: InfluxResultFormat = "time_series",
        alias: str | None = None,
        datasource: dashboard.DataSourceRef | None = None,
        hide: bool | None = None,
    ) -> None:
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format
        self.alias = alias
        self.datasource = datasource
        self.hide = hide

    def to_json(self) -> dict[str, object]:
        """The target as Grafana's InfluxDB plugin stores it."""
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        if self.hide is not None:
            payload["hide"] = self.hide
        return payload


class SQLQuery(cogvariants.Dataquery):
    """One raw SQL target of a ``grafana-postgresql-datasource`` panel."""

    def __init__(
        self,
        raw_sql: str = "",
        ref_id: str = "A",
        format_val: SQLFormat = "table",
        datasource: dashboard.DataSourceRef | None = None,
        hide: bool | None = None,
    ) -> None:
        self.raw_sql = raw_sql
        self.ref_id = ref_id
        self.format_val = format_val
        self.datasource = datasource
        self.hide = hide

    def to_json(self) -> dict[str, object]:
        """The target as Grafana's PostgreSQL plugin stores it (code editor, raw SQL)."""
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "rawSql": self.raw_sql,
            "format": self.format_val,
            "rawQuery": True,
            "editorMode": "code",
        }
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        if self.hide is not None:
            payload["hide"] = self.hide
        return payload


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """Builds an InfluxQL target: ``InfluxQL("SELECT ...").ref_id("B").alias("$tag_asset")``."""

    def __init__(self, query: str) -> None:
        self._internal = InfluxQLQuery(query=query)

    def build(self) -> InfluxQLQuery:
        """The target."""
        return self._internal

    def ref_id(self, ref_id: str) -> typing.Self:
        """The target's id within its panel (A, B, ...)."""
        self._internal.ref_id = ref_id
        return self

    def result_format(self, result_format: InfluxResultFormat) -> typing.Self:
        """time_series (one frame per series) or table."""
        self._internal.result_format = result_format
        return self

    def alias(self, alias: str) -> typing.Self:
        """Series name pattern, e.g. ``$tag_building`` or ``$col``."""
        self._internal.alias = alias
        return self

    def datasource(self, uid: str) -> typing.Self:
        """The InfluxDB data source by uid."""
        self._internal.datasource = dashboard.DataSourceRef(type_val=INFLUXDB, uid=uid)
        return self

    def hide(self, hide: bool) -> typing.Self:
        """Run the target but keep its frames out of the panel (for transformations)."""
        self._internal.hide = hide
        return self


class SQL(cogbuilder.Builder[SQLQuery]):
    """Builds a PostgreSQL target: ``SQL("SELECT ...").format("time_series")``."""

    def __init__(self, raw_sql: str) -> None:
        self._internal = SQLQuery(raw_sql=raw_sql)

    def build(self) -> SQLQuery:
        """The target."""
        return self._internal

    def ref_id(self, ref_id: str) -> typing.Self:
        """The target's id within its panel (A, B, ...)."""
        self._internal.ref_id = ref_id
        return self

    def format(self, format_val: SQLFormat) -> typing.Self:
        """table, or time_series (a ``time`` column, then values)."""
        self._internal.format_val = format_val
        return self

    def datasource(self, uid: str) -> typing.Self:
        """The PostgreSQL data source by uid."""
        self._internal.datasource = dashboard.DataSourceRef(type_val=POSTGRESQL, uid=uid)
        return self

    def hide(self, hide: bool) -> typing.Self:
        """Run the target but keep its frames out of the panel (for transformations)."""
        self._internal.hide = hide
        return self
