"""What every Plantroom dashboard shares: the language, the data sources, the variables and the
links into the app, in one ``Context`` the board modules build from.

The variables come from the site configuration, not from a data source query, so a dashboard
shows the site's buildings by name (in its language) even before any data arrives:

- ``building``: the buildings, multi-value with All; the values are building ids.
- ``asset_class``: the Brick classes of the site's assets, the same way.
- ``plantroom_url``: a hidden constant, the app's base URL, for links to work-order and asset
  pages.

Telemetry panels filter with ``"building" =~ /^${building:regex}$/`` and SQL panels with
``building_id IN (${building:sqlstring})``: Grafana turns a multi-value selection (All included,
as there is no custom all value) into ``(a|b)`` and ``'a','b'`` respectively.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as model

from config.site import SiteConfig
from core.i18n import translate
from dashboards.queries import SQL, InfluxQL

#: The languages each dashboard is generated in, and the uid suffix of each.
LANGS = {"en": "en", "zh-CN": "zh"}
#: InfluxQL's days are UTC unless a query says otherwise; the demo and its users are in China.
DEFAULT_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class DataSources:
    """The uids panels refer to: provisioned ones by default, the push command's own otherwise."""

    influx: str = "plantroom-influx"
    sql: str = "plantroom-pg"


def N_(text: str) -> str:
    """Mark a message for extraction without translating it here."""
    return text


#: Table and stat columns as people say them (the SQL keeps stable names: links read them).
COLUMNS = {
    "id": N_("No."),
    "priority": N_("Priority"),
    "title": N_("Title"),
    "building": N_("Building"),
    "asset": N_("Asset"),
    "asset_id": N_("Asset id"),
    "contractor": N_("Contractor"),
    "status": N_("Status"),
    "due": N_("Due"),
    "started": N_("Started"),
    "severity": N_("Severity"),
    "rule": N_("Rule"),
    "state": N_("State"),
    "work_order_id": N_("Work order"),
    "device": N_("Device"),
    "time": N_("Time"),
    "breached": N_("Breached"),
    "due_soon": N_("Due soon"),
    "response": N_("Response"),
    "resolution": N_("Resolution"),
    "labour": N_("Labour"),
    "parts": N_("Parts"),
    "other": N_("Other"),
    "work_orders": N_("Work orders"),
    "response_on_time": N_("Responses on time %"),
    "resolution_on_time": N_("Resolutions on time %"),
    "opened_at": N_("Opened"),
    "response_due_at": N_("Response due at"),
    "response_met_at": N_("Responded"),
    "resolution_due_at": N_("Resolution due at"),
    "resolved_at": N_("Resolved"),
    "month": N_("Month"),
    "clock": N_("Clock"),
    "reason": N_("Reason"),
    "decided_at": N_("Decided"),
    "failures": N_("Failures"),
    "beta": "β",
    "lower": N_("Lower bound"),
    "upper": N_("Upper bound"),
    "flags": N_("Flags"),
    "rank": N_("Rank"),
    "year": N_("Year"),
    "cost": N_("Cost"),
    "age_ratio": N_("Age / expected life"),
    "beta_lower": N_("β lower bound"),
    "cost_ratio": N_("Repair / replacement"),
    "criticality": N_("Criticality"),
    "reasons": N_("Reasons"),
}

#: Brick classes as people say them.
CLASS_NAMES = {
    "Electrical_Meter": N_("Electricity meter"),
    "Water_Meter": N_("Water meter"),
    "Elevator": N_("Lift"),
    "Pump": N_("Pump"),
    "Fire_Pump": N_("Fire pump"),
    "Jockey_Pump": N_("Jockey pump"),
    "Weather_Station": N_("Weather station"),
}


@dataclass(frozen=True)
class Context:
    """One board's build: its site, language, data sources, uid prefix and app URL."""

    site: SiteConfig
    lang: str
    datasources: DataSources
    uid_prefix: str
    app_url: str

    @property
    def _(self) -> Callable[[str], str]:
        """gettext for this board's language."""
        return functools.partial(translate, self.lang)

    @property
    def tz(self) -> str:
        """The site's time zone (InfluxQL ``tz()``, SQL ``AT TIME ZONE``)."""
        return self.site.doc.site.timezone or DEFAULT_TZ

    def uid(self, board: str) -> str:
        """The dashboard uid of a board in this language."""
        return f"{self.uid_prefix}-{board}-{LANGS[self.lang]}"

    def influx(self, query: str, ref: str = "A") -> InfluxQL:
        """An InfluxQL target on the InfluxDB data source."""
        return InfluxQL(query).ref_id(ref).datasource(self.datasources.influx)

    def sql(self, raw: str, ref: str = "A") -> SQL:
        """A SQL target on the PostgreSQL data source."""
        return SQL(raw).ref_id(ref).datasource(self.datasources.sql)

    def influx_ref(self) -> model.DataSourceRef:
        """The panel-level reference to the InfluxDB data source."""
        return model.DataSourceRef(type_val="influxdb", uid=self.datasources.influx)

    def sql_ref(self) -> model.DataSourceRef:
        """The panel-level reference to the PostgreSQL data source."""
        return model.DataSourceRef(
            type_val="grafana-postgresql-datasource", uid=self.datasources.sql
        )

    # --- names in this language ---------------------------------------------------------------

    def building_names(self) -> dict[str, str]:
        """{building id: its name in this language}."""
        zh = self.lang == "zh-CN"
        return {b.id: (b.name_zh if zh and b.name_zh else b.name) for b in self.site.doc.buildings}

    def class_names(self) -> dict[str, str]:
        """{Brick class: its name in this language} for the site's asset classes."""
        _ = self._
        return {
            c: _(CLASS_NAMES.get(c, c.replace("_", " "))) for c in sorted(self.site.asset_classes)
        }

    def labels(self, *columns: str) -> dict[str, str]:
        """{column: its label in this language} for a table's or stat's columns."""
        _ = self._
        return {c: _(COLUMNS[c]) for c in columns}

    def class_label(self, column: str = "asset_class") -> str:
        """SQL naming a Brick class column's values in this language (a CASE over the site's
        classes)."""
        return sql_case(column, self.class_names())

    def codes_label(self, column: str, labels: dict[str, str]) -> str:
        """SQL naming the comma-joined codes of a column (flags, reasons) in this language:
        each code replaced by its label, longest code first, joined with '; '."""
        _ = self._
        sql = column
        for code in sorted(labels, key=len, reverse=True):
            sql = f"replace({sql}, {sql_literal(code)}, {sql_literal(_(labels[code]))})"
        return f"replace({sql}, ',', '; ')"

    def value_label(self, column: str, labels: dict[str, str]) -> str:
        """SQL naming a column's coded values in this language (a CASE)."""
        _ = self._
        return sql_case(column, {code: _(label) for code, label in labels.items()})

    def building_name(self, column: str) -> str:
        """SQL naming a building-id column's values in this language (a CASE over the site's
        buildings; NULL stays NULL)."""
        return sql_case(column, self.building_names())

    # --- the board frame ----------------------------------------------------------------------

    def variables(self) -> list[dash.CustomVariable | dash.ConstantVariable]:
        """building, asset_class and the hidden plantroom_url."""
        _ = self._
        return [
            _custom("building", _("Building"), self.building_names()),
            _custom("asset_class", _("Asset class"), self.class_names()),
            dash.ConstantVariable("plantroom_url").value(self.app_url.rstrip("/")),
        ]

    def dashboard(self, board: str, title: str, *, refresh: str = "1m") -> dash.Dashboard:
        """A board with Plantroom's uid, title, tags, time zone, variables and app links."""
        _ = self._
        d = (
            dash.Dashboard(f"Plantroom · {title}")
            .uid(self.uid(board))
            .tags(["plantroom", board, self.lang])
            .timezone(self.tz)
            .refresh(refresh)
            .time("now-7d", "now")
            .tooltip(model.DashboardCursorSync.CROSSHAIR)
            .readonly()
            .variables(self.variables())  # type: ignore[arg-type]
        )
        d.link(
            dash.DashboardLink(_("Plantroom dashboards"))
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags(["plantroom", self.lang])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
        d.link(
            dash.DashboardLink(_("Open Plantroom"))
            .type(model.DashboardLinkType.LINK)
            .url("${plantroom_url}/ui/")
            .target_blank(True)
        )
        return d

    # --- links into the app -------------------------------------------------------------------

    def work_order_link(self, field: str = "id") -> dash.DashboardLink:
        """A data link from a row's work-order id to its page in the app."""
        return (
            dash.DashboardLink(self._("Open the work order"))
            .url("${plantroom_url}/ui/workorders/${__data.fields." + field + "}")
            .target_blank(True)
        )

    def asset_link(self, field: str = "asset_id") -> dash.DashboardLink:
        """A data link from a row's asset id to the asset's page in the app."""
        return (
            dash.DashboardLink(self._("Open the asset"))
            .url("${plantroom_url}/ui/assets/${__data.fields." + field + "}")
            .target_blank(True)
        )

    def health_link(self, field: str = "asset_id") -> dash.DashboardLink:
        """A data link from a row's asset id to its health page (failures, β) in the app."""
        return (
            dash.DashboardLink(self._("Open the asset's health"))
            .url("${plantroom_url}/ui/assets/${__data.fields." + field + "}/health")
            .target_blank(True)
        )


def _custom(name: str, label: str, options: dict[str, str]) -> dash.CustomVariable:
    """A multi-value custom variable with All selected; options {value: text}."""
    query = ",".join(f"{_escape(text)} : {_escape(value)}" for value, text in options.items())
    return (
        dash.CustomVariable(name)
        .label(label)
        .values(query)
        .multi(True)
        .include_all(True)
        .current(model.VariableOption(selected=True, text=["All"], value=["$__all"]))
        .options(
            [model.VariableOption(selected=True, text="All", value="$__all")]
            + [model.VariableOption(selected=False, text=t, value=v) for v, t in options.items()]
        )
    )


def _escape(text: str) -> str:
    """A custom variable's query separates options with commas: keep them in names."""
    return text.replace("\\", "\\\\").replace(",", "\\,")


#: The filter every telemetry query carries.
INFLUX_FILTER = '"building" =~ /^${building:regex}$/ AND "asset_class" =~ /^${asset_class:regex}$/'


def sql_filter(prefix: str = "", *, site_wide: bool = False) -> str:
    """The building and asset-class filter of a SQL query on a reporting view (prefix: a table
    alias and a dot). site_wide: rows with no building or class (an alert storm's parent work
    order) pass in every selection."""
    parts = []
    for column, var in (("building_id", "building"), ("asset_class", "asset_class")):
        test = f"{prefix}{column} IN (${{{var}:sqlstring}})"
        parts.append(f"({test} OR {prefix}{column} IS NULL)" if site_wide else test)
    return " AND ".join(parts)


def sql_case(column: str, labels: dict[str, str]) -> str:
    """SQL naming a column's values: CASE column WHEN value THEN label ... ELSE column END."""
    whens = " ".join(f"WHEN {sql_literal(v)} THEN {sql_literal(n)}" for v, n in labels.items())
    return f"CASE {column} {whens} ELSE {column} END"


def sql_literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
