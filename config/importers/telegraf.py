"""Import Telegraf's Modbus input (``[[inputs.modbus]]``) as Plantroom profiles and devices.

`plantroom import telegraf FILE` reads a Telegraf TOML config and turns each ``[[inputs.modbus]]``
section into a profile (the register map) and a device (the link), so people can move over with
their register maps. Anything the import cannot carry over is listed, never dropped silently.

Telegraf's semantics, as read from influxdata/telegraf plugins/inputs/modbus (v1.39: README.md,
sample_*.conf, configuration_register.go, configuration_request.go, configuration_metric.go,
type_conversions*.go):

- Addresses are 0-based PDU addresses, sent as they are; so are Plantroom's.
- The ``register`` style (the default) lists ``holding_registers``, ``input_registers``,
  ``coils`` and ``discrete_inputs`` for one ``slave_id``; a field's ``address`` lists every
  register it spans, and its ``byte_order`` must have two letters per register (AB, ABCD,
  ABCDEFGH ...), except for BIT and STRING, which take any order.
- The ``request`` style lists ``[[inputs.modbus.request]]`` sections, each with its own
  ``slave_id``, ``register`` and one four-letter ``byte_order`` for all its fields; fields give
  their first ``address`` and a ``type``, and the width follows from the type.
- The ``metric`` style lists ``[[inputs.modbus.metric]]`` sections, each with its own
  ``slave_id``, one request-style ``byte_order`` (default ABCD), a ``measurement`` (default
  "modbus"), ``tags``, and fields as in the request style that also name their ``register``
  (default holding). Telegraf collects the fields of all metrics per slave and register table,
  so each slave id is one profile and device. The section's ``optimization`` (none or
  max_insert, with ``optimization_max_register_fill``, default 50) applies across all metrics.
- Telegraf normalises every order to ABCD, DCBA, BADC or CDAB and applies it by width: a 16-bit
  value is big-endian for ABCD and CDAB, little-endian for DCBA and BADC; a 64-bit value keeps
  the word order and byte swap (CDAB -> GHEFCDAB). See _ORDER_BY_WIDTH.
- ``scale`` multiplies the raw value. Register style FIXED/UFIXED are signed/unsigned integers
  of the field's width, scaled. Register style FLOAT32 was a deprecated alias of UFIXED until
  Telegraf 1.37 removed the alias; see _LEGACY_FLOAT32.
- Request and metric style ``output = "INT64"/"UINT64"`` makes a field an integer. An unscaled
  integer point is an exact int in Plantroom too (Point.integral), so only an integer output of
  a scaled, float or bit field, or one that wraps values (a signed type into UINT64, a uint64
  into INT64), is listed as not carried over.
- Serial settings left unset fall to the serial library's Modbus defaults: 19200 baud, 8 data
  bits, even parity, 1 stop bit (grid-x/serial).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.profile import INTEGER_TYPES
from config.site import PROFILES_DIR, Device, load_site
from config.units import go_duration
from config.yamlloc import ConfigError

#: Telegraf's agent interval when [agent] does not set one.
TELEGRAF_DEFAULT_INTERVAL = "10s"
#: Serial settings Telegraf uses when the config leaves them unset (grid-x/serial defaults).
TELEGRAF_SERIAL_DEFAULTS: dict[str, Any] = {
    "baud_rate": 19200,
    "data_bits": 8,
    "parity": "E",
    "stop_bits": 1,
}
#: optimization_max_register_fill when max_insert is chosen without it (README default).
TELEGRAF_DEFAULT_MAX_FILL = 50

#: Register-style byte orders, normalised to Telegraf's four names (normalizeByteOrder).
_REGISTER_STYLE_ORDERS = {
    "AB": "ABCD",
    "BA": "DCBA",
    "ABCD": "ABCD",
    "DCBA": "DCBA",
    "BADC": "BADC",
    "CDAB": "CDAB",
    "ABCDEFGH": "ABCD",
    "HGFEDCBA": "DCBA",
    "BADCFEHG": "BADC",
    "GHEFCDAB": "CDAB",
}
#: Request-style byte orders (configuration_request.go check), normalised the same way.
_REQUEST_STYLE_ORDERS = {
    "ABCD": "ABCD",
    "DCBA": "DCBA",
    "BADC": "BADC",
    "CDAB": "CDAB",
    "MSW-BE": "ABCD",
    "MSW-LE": "BADC",
    "LSW-BE": "CDAB",
    "LSW-LE": "DCBA",
}
#: Plantroom byte order for a normalised Telegraf order and a width in bytes. Plantroom letters
#: name the value byte in each wire position (collectors/decode.py); Telegraf reads 16-bit
#: values big-endian for ABCD/CDAB and little-endian for DCBA/BADC (endiannessConverter16), and
#: 64-bit values word by word (binaryMSWLEU64 = BADCFEHG, binaryLSWBEU64 = GHEFCDAB).
_ORDER_BY_WIDTH: dict[str, dict[int, str]] = {
    "ABCD": {2: "AB", 4: "ABCD", 8: "ABCDEFGH"},
    "DCBA": {2: "BA", 4: "DCBA", 8: "HGFEDCBA"},
    "BADC": {2: "BA", 4: "BADC", 8: "BADCFEHG"},
    "CDAB": {2: "AB", 4: "CDAB", 8: "GHEFCDAB"},
}

#: Integer types both styles share, with their width in registers.
_INTEGER_TYPES: dict[str, tuple[str, int]] = {
    "INT16": ("int16", 1),
    "UINT16": ("uint16", 1),
    "INT32": ("int32", 2),
    "UINT32": ("uint32", 2),
    "INT64": ("int64", 4),
    "UINT64": ("uint64", 4),
}
#: Register-style data_type -> (Plantroom type, registers). FIXED, UFIXED and FLOAT32 are
#: handled by width in _register_type.
_REGISTER_STYLE_TYPES: dict[str, tuple[str, int]] = {
    **_INTEGER_TYPES,
    "FLOAT32-IEEE": ("float32", 2),
    "FLOAT64-IEEE": ("float64", 4),
}
#: Request-style type -> (Plantroom type, registers); FLOATnn are IEEE 754 in this style.
_REQUEST_STYLE_TYPES: dict[str, tuple[str, int]] = {
    **_INTEGER_TYPES,
    "FLOAT32": ("float32", 2),
    "FLOAT64": ("float64", 4),
}
#: Options of a request-style or metric-style field (request style adds measurement and omit,
#: metric style register).
_FIELD_KEYS = frozenset({"address", "name", "type", "length", "scale", "output", "bit"})
#: Options of an [[inputs.modbus.metric]] section (configuration_metric.go).
_METRIC_KEYS = frozenset({"slave_id", "byte_order", "measurement", "fields", "tags"})
_FIXED_BY_WORDS = {
    "FIXED": {1: "int16", 2: "int32", 4: "int64"},
    "UFIXED": {1: "uint16", 2: "uint32", 4: "uint64"},
}
#: Telegraf < 1.37 read register-style FLOAT32 as UFIXED (deprecated since 1.16); 1.37 removed
#: the alias, after which a two-register FLOAT32 decodes as an IEEE 754 float.
_LEGACY_FLOAT32 = {1: "uint16", 2: "uint32", 4: "uint64"}
#: Telegraf types Plantroom cannot decode.
_NO_EQUIVALENT = {
    "INT8L": "Plantroom has no 8-bit types",
    "INT8H": "Plantroom has no 8-bit types",
    "UINT8L": "Plantroom has no 8-bit types",
    "UINT8H": "Plantroom has no 8-bit types",
    "FLOAT16": "Plantroom has no 16-bit float type",
    "FLOAT16-IEEE": "Plantroom has no 16-bit float type",
}
_TABLES = {
    "coils": "coil",
    "discrete_inputs": "discrete",
    "holding_registers": "holding",
    "input_registers": "input",
}
_BIT_TABLES = ("coil", "discrete")

#: Why common Telegraf options have no Plantroom equivalent.
_REASONS = {
    "exclude_register_type_tag": "Plantroom keeps points per device, without a register-type tag",
    "debug_connection": "no connection tracing; use Plantroom's log level",
    "log_level": "no per-device log level",
    "tags": "no per-metric tags; put what you need in the asset's tags",
    "rs485": "Plantroom's RTU link has no RS-485 RTS timing settings",
    "measurement": "a device's points are stored together; measurement names are not kept",
    "name_override": "measurement names are not kept",
    "name_prefix": "measurement names are not kept",
    "name_suffix": "measurement names are not kept",
    "alias": "no plugin aliases",
    "collection_jitter": "Plantroom schedules its own polls",
    "collection_offset": "Plantroom schedules its own polls",
    "precision": "Plantroom timestamps readings itself",
    "startup_error_behavior": "Plantroom marks a device unavailable and keeps retrying",
    "read_coils_starting_at_zero": "no Plantroom equivalent",
    "max_bit_registers_per_request": (
        "Plantroom limits bit reads to 16 x max_request_registers (2000 at most)"
    ),
    "string_register_location": "Plantroom decodes both bytes of each string register",
}
_REASONS |= dict.fromkeys(
    ("fieldpass", "fielddrop", "fieldinclude", "fieldexclude", "taginclude"),
    "not applied: every field was imported; delete the points you do not want",
)
_REASONS |= dict.fromkeys(
    ("namepass", "namedrop", "tagpass", "tagdrop", "tagexclude"),
    "not applied: metric filters have no Plantroom equivalent",
)

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_ID_RESERVED = {"imported"}


class TelegrafConfigError(ValueError):
    """The Telegraf file cannot be read as TOML; names file:line:column."""

    def __init__(self, file: Path, line: int, column: int, message: str):
        self.file, self.line, self.column, self.message = file, line, column, message
        super().__init__(f"{file}:{line}:{column}: invalid TOML: {message}")


@dataclass
class TelegrafImport:
    """What an import produced, and what it could not carry over."""

    #: Profile name -> YAML-ready profile document.
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: YAML-ready device entries (each passes config.site.Device).
    devices: list[dict[str, Any]] = field(default_factory=list)
    #: Options, fields and sections not imported, each naming its section and option.
    unsupported: list[str] = field(default_factory=list)
    #: Point names changed to fit Plantroom's naming rule, as "where: 'old' -> new".
    renamed: list[str] = field(default_factory=list)
    #: Assumptions the import made (defaults filled in, ambiguous types) for the user to check.
    notes: list[str] = field(default_factory=list)
    #: Device id -> (asset id, asset name) of the asset that carries it.
    assets: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The Telegraf file read.
    source: str = ""


@dataclass
class _Target:
    """One profile and its device, for one controller and slave id."""

    profile: dict[str, Any]
    device: dict[str, Any] | None
    where: str
    interval: str
    names: set[str] = field(default_factory=set)
    spans: dict[str, list[tuple[int, int, int | None, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def import_telegraf(path: Path) -> TelegrafImport:
    """Read a Telegraf config and map its [[inputs.modbus]] sections to profiles and devices."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POSITION.search(message)
        if m:
            line, column = int(m.group(1)), int(m.group(2))
            message = message[: m.start()]
        else:  # "(at end of document)"
            line, column = text.count("\n") + 1, 1
            message = message.replace(" (at end of document)", "")
        raise TelegrafConfigError(path, line, column, message) from None
    return _Importer(path).run(doc)


class _Importer:
    def __init__(self, path: Path):
        self.result = TelegrafImport(source=str(path))
        self.targets: list[_Target] = []
        self.by_endpoint: dict[tuple[str, int], _Target] = {}
        self.ids: set[str] = set(_ID_RESERVED)
        self.builtin = {p.stem for p in PROFILES_DIR.glob("*.yaml")}
        # (where, option, reason) -> field names, reported as one line each.
        self.field_reports: dict[tuple[str, str, str], list[str]] = {}

    # ---- reporting -------------------------------------------------------------------------

    def unsupported(self, where: str, option: str, reason: str, value: Any = None) -> None:
        shown = f"{option} = {_show(value)}" if value is not None else option
        self.result.unsupported.append(f"{where}: {shown}: {reason}")

    def field_option(self, where: str, option: str, reason: str, name: str) -> None:
        self.field_reports.setdefault((where, option, reason), []).append(name)

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    # ---- the document ----------------------------------------------------------------------

    def run(self, doc: dict[str, Any]) -> TelegrafImport:
        agent: dict[str, Any] = _table(doc.get("agent"))
        agent_interval = agent.get("interval", TELEGRAF_DEFAULT_INTERVAL)
        inputs: dict[str, Any] = _table(doc.get("inputs"))
        sections = inputs.get("modbus", [])
        if isinstance(sections, dict):
            sections = [sections]
        others = [f"inputs.{k}" for k in inputs if k != "modbus"]
        others += [
            f"{kind}.{k}"
            for kind in ("outputs", "processors", "aggregators")
            if isinstance(doc.get(kind), dict)
            for k in doc[kind]
        ]
        if others:
            self.note(f"not Modbus inputs, not imported: {', '.join(sorted(others))}")
        if not sections:
            self.note("the file has no [[inputs.modbus]] sections")
        for i, section in enumerate(sections):
            self.section(i, section, agent_interval)
        for (where, option, reason), names in self.field_reports.items():
            self.result.unsupported.append(
                f"{where}: {option} (fields {', '.join(names)}): {reason}"
            )
        self.result.unsupported.sort(key=_section_index)
        for t in self.targets:
            if not t.profile["points"]:
                self.note(f"{t.where}: no field could be imported; profile and device skipped")
                continue
            self.result.profiles[t.profile["profile"]] = t.profile
            if t.device is not None:
                self.result.devices.append(t.device)
        return self.result

    def section(self, index: int, sec: dict[str, Any], agent_interval: Any) -> None:
        name = str(sec.get("name") or f"modbus {index + 1}")
        where = f'inputs.modbus[{index}] "{name}"'
        if not sec.get("name"):
            self.note(f"{where}: the section has no name (Telegraf requires one); named '{name}'")
        style = sec.get("configuration_type", "register")
        used = {"name", "configuration_type"}
        if style not in ("register", "request", "metric"):
            self.unsupported(where, "configuration_type", "unknown style; not imported", style)
            return

        link = self.link(sec, where, used)
        device_opts, profile_opts = self.connection_options(sec, where, used, agent_interval)
        interval = str(device_opts.pop("poll_interval"))
        if style == "register":
            used |= {"slave_id", *_TABLES}
            other_style = {"request", "metric", "optimization", "optimization_max_register_fill"}
            if "slave_id" not in sec:
                self.note(f"{where}: no slave_id; used Telegraf's default 0")
            target, group = self.target(
                name, where, sec.get("slave_id", 0), link, device_opts, profile_opts, interval
            )
            for key, table in _TABLES.items():
                entries = sec.get(key, [])
                for entry in entries if isinstance(entries, list) else []:
                    self.register_field(target, f"{where} {key}", table, entry, group)
            # Telegraf's register style reads only the registers its fields name.
            target.profile.setdefault("max_gap", 0)
        elif style == "request":
            used.add("request")
            other_style = {*_TABLES, "slave_id", "metric", "optimization"}
            other_style.add("optimization_max_register_fill")
            self.request_style(name, where, sec, link, device_opts, profile_opts, interval)
        else:
            # The metric style's optimisation is the section's, across all its metrics.
            used |= {"metric", "optimization", "optimization_max_register_fill"}
            other_style = {*_TABLES, "slave_id", "request"}
            self.metric_style(name, where, sec, link, device_opts, profile_opts, interval)
        for key in sorted(set(sec) - used):
            if key in other_style:
                self.unsupported(
                    where,
                    key,
                    f"belongs to another configuration_type than '{style}'; "
                    "Telegraf ignores it too",
                )
            elif isinstance(sec[key], dict) and key not in ("tags", "rs485"):
                for sub, value in sec[key].items():
                    self.unsupported(where, f"{key}.{sub}", _REASONS.get(sub, _NO_MATCH), value)
            else:
                self.unsupported(where, key, _REASONS.get(key, _NO_MATCH), sec[key])

    # ---- connection ------------------------------------------------------------------------

    def link(self, sec: dict[str, Any], where: str, used: set[str]) -> dict[str, Any] | None:
        """The Plantroom link for the section's controller, or None (reported)."""
        serial_keys = ("baud_rate", "data_bits", "parity", "stop_bits")
        used |= {"controller", "transmission_mode", *serial_keys}
        controller = str(sec.get("controller", ""))
        mode = str(sec.get("transmission_mode", "auto"))
        if controller.startswith("tcp://"):
            for key in serial_keys:
                if key in sec:
                    self.unsupported(
                        where, key, "serial setting on a TCP controller; Telegraf ignores it too"
                    )
            hostport = controller.removeprefix("tcp://").rstrip("/")
            host, sep, port = hostport.rpartition(":")
            if not sep or not port.isdigit():
                host, port = hostport, "502"
                self.note(f"{where}: controller {controller} has no port; used 502")
            host = host.strip("[]")
            if mode in ("auto", "TCP", ""):
                return {"type": "tcp", "host": host, "port": int(port)}
            if mode == "RTUoverTCP":
                return {"type": "rtu_over_tcp", "host": host, "port": int(port)}
            reason = (
                "Plantroom has no Modbus ASCII links; device not created"
                if mode == "ASCIIoverTCP"
                else "unknown transmission mode; device not created"
            )
            self.unsupported(where, "transmission_mode", reason, mode)
            return None
        if controller.startswith("file://") or (controller and "://" not in controller):
            port_path = controller.removeprefix("file://")
            if mode not in ("auto", "RTU", ""):
                reason = (
                    "Plantroom has no Modbus ASCII links; device not created"
                    if mode == "ASCII"
                    else "unknown transmission mode; device not created"
                )
                self.unsupported(where, "transmission_mode", reason, mode)
                return None
            settings = {k: sec.get(k) or v for k, v in TELEGRAF_SERIAL_DEFAULTS.items()}
            missing = [k for k in serial_keys if not sec.get(k)]
            if missing:
                defaults = ", ".join(f"{k} = {TELEGRAF_SERIAL_DEFAULTS[k]}" for k in missing)
                self.note(f"{where}: {defaults}: Telegraf's serial defaults, written out")
            if settings["data_bits"] not in (7, 8):
                self.unsupported(
                    where,
                    "data_bits",
                    "Plantroom's RTU link takes 7 or 8 data bits; device not created",
                    settings["data_bits"],
                )
                return None
            return {
                "type": "rtu",
                "port": port_path,
                "baudrate": int(settings["baud_rate"]),
                "parity": str(settings["parity"]),
                "bytesize": int(settings["data_bits"]),
                "stopbits": int(settings["stop_bits"]),
            }
        self.unsupported(where, "controller", "not a tcp:// or serial controller", controller)
        return None

    def connection_options(
        self, sec: dict[str, Any], where: str, used: set[str], agent_interval: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Device options (poll interval, timeouts, pauses) and profile planning options."""
        used |= {"interval", "timeout", "busy_retries", "busy_retries_wait", "workarounds"}
        device: dict[str, Any] = {}
        interval = sec.get("interval", agent_interval)
        device["poll_interval"] = self.duration(where, "interval", interval) or "10s"
        for telegraf, ours in (("timeout", "timeout"), ("busy_retries_wait", "busy_delay")):
            if telegraf in sec and (value := self.duration(where, telegraf, sec[telegraf])):
                if value == "0s" and ours == "timeout":
                    self.note(f"{where}: timeout 0 (the library's default); Plantroom's 1s kept")
                    continue
                device[ours] = value
        if "busy_retries" in sec:
            retries = int(sec["busy_retries"])
            device["busy_retries"] = min(max(retries, 0), 20)
            if retries > 20:
                self.unsupported(where, "busy_retries", "Plantroom allows at most 20", retries)
        profile: dict[str, Any] = {}
        workarounds = sec.get("workarounds", {})
        for key, value in (workarounds if isinstance(workarounds, dict) else {}).items():
            option = f"workarounds.{key}"
            if key in ("pause_after_connect", "pause_between_requests"):
                if (pause := self.duration(where, option, value)) is not None:
                    device[key] = pause
            elif key == "close_connection_after_gather":
                device["close_after_poll"] = bool(value)
            elif key == "one_request_per_field":
                profile["one_request_per_point"] = bool(value)
            elif key == "max_word_registers_per_request" and 1 <= int(value) <= 125:
                profile["max_request_registers"] = int(value)
            elif key.startswith("max_") and value == 0:
                continue  # 0 is Telegraf's "the spec's limit", Plantroom's default too.
            elif key == "string_register_location" and value in ("", "both"):
                continue  # Telegraf's default: both bytes, as Plantroom decodes them.
            else:
                self.unsupported(where, option, _REASONS.get(key, _NO_MATCH), value)
        return device, profile

    def duration(self, where: str, option: str, value: Any) -> str | None:
        """A Telegraf duration as Plantroom writes one, or None (reported)."""
        seconds = _go_duration(value)
        if seconds is None:
            self.unsupported(where, option, "not a duration Plantroom understands", value)
            return None
        return _fmt_duration(seconds)

    # ---- profiles and devices --------------------------------------------------------------

    def target(
        self,
        label: str,
        where: str,
        slave: Any,
        link: dict[str, Any] | None,
        device_opts: dict[str, Any],
        profile_opts: dict[str, Any],
        interval: str,
    ) -> tuple[_Target, str | None]:
        """The profile and device for one slave; a second section on the same one is merged
        into the first, its points in a poll group of their own if its interval differs."""
        device: dict[str, Any] | None = None
        key: tuple[str, int] | None = None
        if link is not None:
            device = {"id": "", "profile": "", "unit_id": slave, "link": dict(link)}
            device |= {"poll_interval": interval, **device_opts}
            try:
                checked = Device.model_validate({**device, "id": "x", "profile": "x"})
                key = (checked.link.key, checked.unit_id)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"])
                    self.unsupported(where, loc, f"{err['msg']}; device not created")
                device = None
        if key is not None and key in self.by_endpoint:
            first = self.by_endpoint[key]
            assert first.device is not None
            self.note(
                f"{where}: same controller and slave as {first.where}; merged into its profile"
            )
            for option, value in device_opts.items():
                if first.device.get(option) != value:
                    self.unsupported(
                        where,
                        option,
                        f"differs from {first.where}, whose value the merged device keeps",
                        value,
                    )
            for option, value in profile_opts.items():
                if first.profile.get(option) != value:
                    self.unsupported(
                        where, option, f"differs from {first.where}; its value is kept", value
                    )
            if interval == first.interval:
                return first, None
            group = self.group_name(first, label)
            first.profile.setdefault("groups", {})[group] = interval
            return first, group
        profile_name = self.profile_name(label)
        profile: dict[str, Any] = {
            "profile": profile_name,
            "description": f"Imported from Telegraf {Path(self.result.source).name}, {where}",
            **profile_opts,
            "points": [],
        }
        target = _Target(profile=profile, device=None, where=where, interval=interval)
        if device is not None and key is not None:
            asset_id = self.ident(label)
            device["id"] = self.ident(f"{asset_id}-modbus")
            device["profile"] = profile_name
            target.device = device
            self.result.assets[device["id"]] = (asset_id, label)
            self.by_endpoint[key] = target
        self.targets.append(target)
        return target, None

    def group_name(self, target: _Target, label: str) -> str:
        base = _snake(label) or "group"
        name, n = base, 2
        while name in target.profile.get("groups", {}) or name == "default":
            name, n = f"{base}_{n}", n + 1
        return name

    def profile_name(self, label: str) -> str:
        base = _snake(label) or "device"
        taken = {t.profile["profile"] for t in self.targets}
        name, n = base, 2
        while name in taken or name in self.builtin:
            name, n = f"{base}_{n}", n + 1
        if base in self.builtin:
            self.note(f"profile '{base}' is built into Plantroom; the import is named '{name}'")
        return name

    def ident(self, label: str) -> str:
        base = _slug(label) or "device"
        name, n = base, 2
        while name in self.ids:
            name, n = f"{base}-{n}", n + 1
        self.ids.add(name)
        return name

    # ---- fields ----------------------------------------------------------------------------

    def register_field(
        self, target: _Target, where: str, table: str, f: Any, group: str | None
    ) -> None:
        """One entry of a register-style holding_registers/input_registers/coils list."""
        if not isinstance(f, dict):
            self.unsupported(where, "entry", "not a table; not imported", f)
            return
        name = str(f.get("name", ""))
        address = f.get("address", [])
        address = [address] if isinstance(address, int) else list(address)
        bad = self.bad_address(address)
        if bad:
            self.unsupported(where, f"field '{name}' address", f"{bad}; not imported", address)
            return
        known = {"name", "address", "data_type", "byte_order", "scale", "bit", "measurement"}
        for key in sorted(set(f) - known):
            self.field_option(where, key, "unknown option (Telegraf rejects it); ignored", name)
        if "measurement" in f:
            self.field_option(where, "measurement", _REASONS["measurement"], name)
        dtype = str(f.get("data_type", ""))
        point: dict[str, Any] = {"register": table, "address": address[0]}
        if table in _BIT_TABLES:
            if dtype not in ("", "UINT16", "BOOL") or len(address) != 1:
                problem = f"data_type {dtype}" if len(address) == 1 else "more than one address"
                self.unsupported(where, f"field '{name}'", f"{problem} on a bit table; skipped")
                return
            for key in ("byte_order", "scale", "bit"):
                if key in f:
                    self.field_option(where, key, "ignored for bit tables, by Telegraf too", name)
            measurement = f.get("measurement")
            self.add_point(target, where, name, {**point, "type": "bool"}, measurement, group)
            return
        ptype, problem = _register_type(dtype, len(address))
        if ptype is None:
            self.unsupported(where, f"field '{name}' data_type", f"{problem}; not imported", dtype)
            return
        if problem:
            self.note(f"{where}: field '{name}': {problem}")
        order_name = str(f.get("byte_order", ""))
        order = _REGISTER_STYLE_ORDERS.get(order_name)
        if order is None:
            self.unsupported(
                where, f"field '{name}' byte_order", "unknown order; not imported", order_name
            )
            return
        if ptype not in ("bit", "string") and len(order_name) != 2 * len(address):
            self.unsupported(
                where,
                f"field '{name}'",
                f"byte_order {order_name} does not fit {len(address)} register(s) "
                "(Telegraf rejects it); not imported",
            )
            return
        point |= self.typed(ptype, order, len(address), f.get("bit", 0))
        if ptype not in ("bit", "string"):
            scale = float(f.get("scale", 0.0))
            if scale == 0.0:
                self.note(f"{where}: field '{name}' has no scale (Telegraf requires one); used 1")
            elif scale != 1.0:
                point["scale"] = scale
        elif "scale" in f:
            self.field_option(where, "scale", f"ignored for {dtype}, by Telegraf too", name)
        self.add_point(target, where, name, point, f.get("measurement"), group)

    def request_style(
        self,
        label: str,
        where: str,
        sec: dict[str, Any],
        link: dict[str, Any] | None,
        device_opts: dict[str, Any],
        profile_opts: dict[str, Any],
        interval: str,
    ) -> None:
        """[[inputs.modbus.request]] sections: one profile and device per slave id."""
        requests = sec.get("request", [])
        requests = [requests] if isinstance(requests, dict) else list(requests)
        if not requests:
            self.note(f"{where}: configuration_type 'request' without [[inputs.modbus.request]]")
        for target, rwhere, req, group in self.per_slave(
            "request", requests, label, where, link, device_opts, profile_opts, interval
        ):
            self.request(target, rwhere, req, group)

    def per_slave(
        self,
        kind: str,
        items: list[Any],
        label: str,
        where: str,
        link: dict[str, Any] | None,
        device_opts: dict[str, Any],
        profile_opts: dict[str, Any],
        interval: str,
    ) -> Iterator[tuple[_Target, str, dict[str, Any], str | None]]:
        """The request or metric sections with the profile and device of their slave id: one
        per slave id, which Telegraf defaults to 0; a section that is not a table is listed."""
        slaves = sorted({int(i.get("slave_id", 0)) for i in items if isinstance(i, dict)})
        if any(isinstance(i, dict) and "slave_id" not in i for i in items):
            self.note(f"{where}: a {kind} has no slave_id; used Telegraf's default 0")
        targets: dict[int, tuple[_Target, str | None]] = {}
        for slave in slaves:
            name = label if len(slaves) == 1 else f"{label} unit {slave}"
            targets[slave] = self.target(
                name, where, slave, link, dict(device_opts), profile_opts, interval
            )
        for i, item in enumerate(items):
            iwhere = f"{where} {kind}[{i}]"
            if not isinstance(item, dict):
                self.unsupported(iwhere, kind, "not a table; not imported", item)
                continue
            target, group = targets[int(item.get("slave_id", 0))]
            yield target, iwhere, item, group

    def request(self, target: _Target, where: str, req: dict[str, Any], group: str | None) -> None:
        """One [[inputs.modbus.request]]: its fields, and what its optimisation implies."""
        table = str(req.get("register", "holding"))
        order_name = str(req.get("byte_order", "ABCD"))
        order = _REQUEST_STYLE_ORDERS.get(order_name)
        if table not in ("coil", "discrete", "holding", "input") or order is None:
            bad = ("register", table) if order is not None else ("byte_order", order_name)
            self.unsupported(where, bad[0], "unknown value (Telegraf rejects it); skipped", bad[1])
            return
        used = {"slave_id", "register", "byte_order", "fields", "optimization"}
        used.add("optimization_max_register_fill")
        for key in sorted(set(req) - used):
            self.unsupported(where, key, _REASONS.get(key, _NO_MATCH), req[key])
        spans: list[tuple[int, int, bool]] = []  # (first, last, omitted) for the gap analysis
        omitted = 0
        fields = req.get("fields", [])
        for f in fields if isinstance(fields, list) else []:
            if not isinstance(f, dict):
                self.unsupported(where, "fields", "entry is not a table; not imported", f)
                continue
            name = str(f.get("name", ""))
            address = f.get("address")
            if not isinstance(address, int) or not 0 <= address <= 65535:
                self.unsupported(
                    where, f"field '{name}' address", "bad address; not imported", address
                )
                continue
            width = self.request_width(table, f)
            if f.get("omit"):
                omitted += 1
                spans.append((address, address + max(width, 1) - 1, True))
                continue
            point = self.request_point(where, table, order, f)
            if point is None:
                continue
            if self.add_point(target, where, name, point, f.get("measurement"), group):
                spans.append((address, address + max(width, 1) - 1, False))
        optimization = str(req.get("optimization", "none"))
        if optimization == "max_insert":
            fill = int(req.get("optimization_max_register_fill", TELEGRAF_DEFAULT_MAX_FILL))
            gap = min(fill, 124)
            if "optimization_max_register_fill" not in req:
                self.note(f"{where}: max_insert without a fill; used Telegraf's documented 50")
        else:
            # Telegraf reads only the registers its fields, omitted ones included, name.
            gap = _covered_gap(spans)
            if "optimization" in req:
                self.unsupported(
                    where,
                    "optimization",
                    f"Plantroom plans its own reads; max_gap {gap} reads the same holes",
                    optimization,
                )
            if "optimization_max_register_fill" in req:
                self.unsupported(
                    where,
                    "optimization_max_register_fill",
                    "only used by max_insert, by Telegraf too",
                    req["optimization_max_register_fill"],
                )
        if omitted:
            self.unsupported(
                where,
                "omit",
                f"{omitted} placeholder field(s) not imported; holes of up to max_gap registers "
                "are read through instead",
            )
        target.profile["max_gap"] = max(target.profile.get("max_gap", 0), gap)

    def metric_style(
        self,
        label: str,
        where: str,
        sec: dict[str, Any],
        link: dict[str, Any] | None,
        device_opts: dict[str, Any],
        profile_opts: dict[str, Any],
        interval: str,
    ) -> None:
        """[[inputs.modbus.metric]] sections: Telegraf collects the fields of every metric per
        slave, so one profile and device per slave id, whichever metrics name it."""
        metrics = sec.get("metric", [])
        metrics = [metrics] if isinstance(metrics, dict) else list(metrics)
        if not metrics:
            self.note(f"{where}: configuration_type 'metric' without [[inputs.modbus.metric]]")
        gap = self.metric_gap(where, sec)
        targets: list[_Target] = []
        for target, mwhere, metric, group in self.per_slave(
            "metric", metrics, label, where, link, device_opts, profile_opts, interval
        ):
            self.metric(target, mwhere, metric, group)
            if all(t is not target for t in targets):
                targets.append(target)
        for target in targets:
            target.profile["max_gap"] = max(target.profile.get("max_gap", 0), gap)

    def metric_gap(self, where: str, sec: dict[str, Any]) -> int:
        """Plantroom's max_gap for the metric style's one optimisation setting."""
        optimization = str(sec.get("optimization") or "none")
        fill = sec.get("optimization_max_register_fill")
        if optimization == "max_insert":
            if not fill:  # unset or 0: Telegraf fills holes of up to 50 registers
                self.note(f"{where}: max_insert without a fill; used Telegraf's default 50")
                fill = TELEGRAF_DEFAULT_MAX_FILL
            return min(int(fill), 124)
        if optimization != "none":
            self.unsupported(
                where,
                "optimization",
                "the metric style knows only none and max_insert (Telegraf rejects it); "
                "read as none",
                optimization,
            )
        if fill is not None:
            self.unsupported(
                where,
                "optimization_max_register_fill",
                "only used by max_insert, by Telegraf too",
                fill,
            )
        # 'none': Telegraf reads consecutive registers together and no hole between them.
        return 0

    def metric(
        self, target: _Target, where: str, metric: dict[str, Any], group: str | None
    ) -> None:
        """One [[inputs.modbus.metric]]: its byte order, measurement and tags, and its fields,
        each naming its own register table."""
        order_name = str(metric.get("byte_order") or "ABCD")
        order = _REQUEST_STYLE_ORDERS.get(order_name)
        if order is None:
            self.unsupported(
                where, "byte_order", "unknown value (Telegraf rejects it); skipped", order_name
            )
            return
        for key in sorted(set(metric) - _METRIC_KEYS):
            self.unsupported(
                where, key, "unknown option (Telegraf rejects it); ignored", metric[key]
            )
        measurement = metric.get("measurement")
        for key in ("measurement", "tags"):
            if key in metric:
                self.unsupported(where, key, _REASONS[key], metric[key])
        fields = metric.get("fields", [])
        if not fields:
            self.note(f"{where}: no fields (Telegraf rejects a metric without them)")
        for f in fields if isinstance(fields, list) else []:
            if not isinstance(f, dict):
                self.unsupported(where, "fields", "entry is not a table; not imported", f)
                continue
            name = str(f.get("name", ""))
            table = str(f.get("register") or "holding")
            if table not in ("coil", "discrete", "holding", "input"):
                self.unsupported(
                    where,
                    f"field '{name}' register",
                    "unknown value (Telegraf rejects it); not imported",
                    table,
                )
                continue
            address = f.get("address")
            if not isinstance(address, int) or not 0 <= address <= 65535:
                self.unsupported(
                    where, f"field '{name}' address", "bad address; not imported", address
                )
                continue
            self.unknown_field_options(where, f, {*_FIELD_KEYS, "register"})
            point = self.field_point(where, table, order, f)
            if point is not None:
                self.add_point(target, where, name, point, measurement, group)

    def request_width(self, table: str, f: dict[str, Any]) -> int:
        if table in _BIT_TABLES:
            return 1
        kind = str(f.get("type", ""))
        if kind == "STRING":
            return int(f.get("length", 0) or 0)
        if kind in _REQUEST_STYLE_TYPES:
            return _REQUEST_STYLE_TYPES[kind][1]
        return 1

    def request_point(
        self, where: str, table: str, order: str, f: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A request-style field as a point, or None (reported)."""
        name = str(f.get("name", ""))
        self.unknown_field_options(where, f, {*_FIELD_KEYS, "measurement", "omit"})
        if "measurement" in f:
            self.field_option(where, "measurement", _REASONS["measurement"], name)
        return self.field_point(where, table, order, f)

    def unknown_field_options(self, where: str, f: dict[str, Any], known: set[str]) -> None:
        name = str(f.get("name", ""))
        for key in sorted(set(f) - known):
            self.field_option(where, key, "unknown option (Telegraf rejects it); ignored", name)

    def field_point(
        self, where: str, table: str, order: str, f: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A request- or metric-style field as a point, or None (reported). Both styles give a
        field its first address, a type (the width follows), scale and output alike."""
        name = str(f.get("name", ""))
        point: dict[str, Any] = {"register": table, "address": f["address"]}
        output = str(f.get("output", ""))
        if table in _BIT_TABLES:
            for key in ("type", "length", "scale", "bit"):
                if key in f:
                    self.field_option(where, key, "ignored for bit tables, by Telegraf too", name)
            if output not in ("", "UINT16", "BOOL"):
                self.unsupported(where, f"field '{name}' output", "unknown output; skipped", output)
                return None
            return {**point, "type": "bool"}
        kind = str(f.get("type", ""))
        if kind == "STRING":
            length = int(f.get("length", 0) or 0)
            if not 1 <= length <= 125:
                self.unsupported(where, f"field '{name}' length", "STRING needs 1-125", length)
                return None
            return point | self.typed("string", order, length, 0)
        if kind == "BIT":
            ptype = "bit"
        elif kind in _REQUEST_STYLE_TYPES:
            ptype = _REQUEST_STYLE_TYPES[kind][0]
        else:
            reason = _NO_EQUIVALENT.get(kind, "not a Telegraf type" if kind else "type missing")
            reason += "; not imported"
            self.unsupported(where, f"field '{name}' type", reason, kind or None)
            return None
        width = _REQUEST_STYLE_TYPES[kind][1] if kind in _REQUEST_STYLE_TYPES else 1
        point |= self.typed(ptype, order, width, f.get("bit", 0))
        scale = float(f.get("scale", 0.0))
        if ptype == "bit":
            if "scale" in f:
                self.field_option(where, "scale", "ignored for BIT, by Telegraf too", name)
        elif scale not in (0.0, 1.0):
            point["scale"] = scale
        if output in ("INT64", "UINT64"):
            # An unscaled integer point is an exact int in Plantroom too (Point.integral);
            # what Telegraf's integer outputs do otherwise has no equivalent.
            if ptype == "bit":
                reason = "Plantroom reads a bit as 1.0 or 0.0; no integer conversion"
            elif ptype not in INTEGER_TYPES or "scale" in point:
                reason = (
                    "Plantroom keeps scaled and floating-point values as floats; "
                    "no integer conversion"
                )
            elif (output, ptype[0]) == ("UINT64", "i") or (output, ptype) == ("INT64", "uint64"):
                reason = (
                    f"Plantroom keeps the {ptype} value as read; Telegraf wraps the values "
                    f"{output} cannot hold"
                )
            else:
                reason = ""
            if reason:
                self.field_option(where, f"output = {output}", reason, name)
        elif output not in ("", "FLOAT64"):
            self.field_option(where, f"output = {output}", "unknown output; ignored", name)
        return point

    def typed(self, ptype: str, order: str, registers: int, bit: Any) -> dict[str, Any]:
        """Type, byte order and bit/length of a register point."""
        width = 2 if ptype in ("bit", "string") else registers * 2
        out: dict[str, Any] = {"type": ptype, "byte_order": _ORDER_BY_WIDTH[order][width]}
        if ptype == "bit":
            out["bit"] = int(bit or 0)
        if ptype == "string":
            out["length"] = registers
        return out

    def bad_address(self, address: list[Any]) -> str:
        if not address or not all(isinstance(a, int) for a in address):
            return "missing or not numeric"
        if not all(0 <= a <= 65535 for a in address):
            return "out of range 0-65535"
        if any(b - a != 1 for a, b in itertools.pairwise(address)):
            return "not consecutive"
        if len(address) > 125:
            return "spans more than 125 registers"
        return ""

    def add_point(
        self,
        target: _Target,
        where: str,
        raw_name: str,
        point: dict[str, Any],
        measurement: Any,
        group: str | None,
    ) -> bool:
        """Name the point (the measurement tells apart fields of one name), check it against
        the profile's other points, and add it."""
        table = point["register"]
        if point["type"] == "bit" and not 0 <= point["bit"] <= 15:
            self.unsupported(where, f"field '{raw_name}' bit", "must be 0-15", point["bit"])
            return False
        regs = 1 if table in _BIT_TABLES else point.get("length") or _width(point["type"])
        start, end, bit = point["address"], point["address"] + regs - 1, point.get("bit")
        for s, e, other_bit, other in target.spans[table]:
            shares_bits = (bit is not None or other_bit is not None) and bit != other_bit
            if start <= e and s <= end and not shares_bits:
                self.unsupported(
                    where,
                    f"field '{raw_name}'",
                    f"{table} registers {start}-{end} overlap point '{other}' ({s}-{e}), "
                    "which Plantroom does not allow; not imported",
                )
                return False
        name = self.point_name(target, raw_name, measurement, table)
        target.spans[table].append((start, end, bit, name))
        target.names.add(name)
        out: dict[str, Any] = {"name": name, **point}
        if group:
            out["group"] = group
        if name != raw_name:
            out["description"] = f'Telegraf field "{raw_name}"'
            self.result.renamed.append(
                f"{where}: '{raw_name}' -> {target.profile['profile']}.{name}"
            )
        target.profile["points"].append(out)
        return True

    def point_name(self, target: _Target, raw: str, measurement: Any, table: str) -> str:
        base = _snake(raw) or f"{table}_{len(target.profile['points'])}"
        if not base[0].isalpha():
            base = f"p_{base}"
        candidates = [base]
        if measurement:
            candidates.append(f"{_snake(str(measurement))}_{base}".strip("_"))
        candidates.append(f"{table}_{base}")
        for name in candidates:
            if name not in target.names and name[0].isalpha():
                return name
        n = 2
        while f"{base}_{n}" in target.names:
            n += 1
        return f"{base}_{n}"


_NO_MATCH = "no Plantroom equivalent"


def _register_type(dtype: str, words: int) -> tuple[str | None, str]:
    """Plantroom type for a register-style data_type over `words` registers; or None and why.
    A type with a message is imported, and the message is a note to check."""
    if dtype in _REGISTER_STYLE_TYPES:
        ptype, needed = _REGISTER_STYLE_TYPES[dtype]
        if words != needed:
            return None, f"{dtype} needs {needed} register(s), the field lists {words}"
        return ptype, ""
    if dtype in _FIXED_BY_WORDS:
        ptype_or_none = _FIXED_BY_WORDS[dtype].get(words)
        if ptype_or_none is None:
            return None, f"{dtype} takes 1, 2 or 4 registers, the field lists {words}"
        return ptype_or_none, ""
    if dtype == "FLOAT32":
        legacy = _LEGACY_FLOAT32.get(words)
        if legacy is None:
            return None, f"FLOAT32 takes 1, 2 or 4 registers, the field lists {words}"
        message = (
            f"FLOAT32 read as {legacy} with scale, as Telegraf before 1.37 did (alias of UFIXED)"
        )
        if words == 2:
            message += "; Telegraf 1.37+ reads it as an IEEE float: if so, set type float32"
        return legacy, message
    if dtype == "BIT":
        return ("bit", "") if words == 1 else (None, "BIT takes exactly one address")
    if dtype == "STRING":
        return "string", ""
    if dtype in _NO_EQUIVALENT:
        return None, _NO_EQUIVALENT[dtype]
    return None, "not a Telegraf data_type" if dtype else "data_type missing"


def _section_index(item: str) -> int:
    m = re.match(r"inputs\.modbus\[(\d+)\]", item)
    return int(m.group(1)) if m else -1


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _width(ptype: str) -> int:
    return {"int32": 2, "uint32": 2, "float32": 2, "int64": 4, "uint64": 4, "float64": 4}.get(
        ptype, 1
    )


def _covered_gap(spans: list[tuple[int, int, bool]]) -> int:
    """The widest hole between imported fields that the request filled with omitted fields:
    Telegraf reads those holes, so Plantroom's max_gap must span them too."""
    kept = sorted((s, e) for s, e, omit in spans if not omit)
    covered = {a for s, e, _ in spans for a in range(s, e + 1)}
    widest = 0
    for (_, end), (start, _) in itertools.pairwise(kept):
        hole = range(end + 1, start)
        if len(hole) > widest and all(a in covered for a in hole):
            widest = len(hole)
    return min(widest, 124)


def _go_duration(value: Any) -> float | None:
    """Seconds in a Telegraf duration: a number of seconds or a Go duration such as '1m30s'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    text = str(value).strip()
    if not text:
        return 0.0
    seconds = go_duration(text, days=True)
    if seconds is None:
        try:
            return max(float(text), 0.0)
        except ValueError:
            return None
    return seconds


def _fmt_duration(seconds: float) -> str:
    """Seconds as Plantroom writes a duration: '5m', '10s', '250ms'."""
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 0.001)):
        count = seconds / size
        if count >= 1 and abs(count - round(count)) < 1e-9:
            return f"{round(count)}{unit}"
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s" if seconds else "0s"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _snake(text: str) -> str:
    """A name that fits ^[a-z][a-z0-9_]*$ where it can: 'Voltage L1' -> 'voltage_l1'."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", _ascii(text))
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _slug(text: str) -> str:
    """An id that fits Plantroom's ID pattern: 'Main Meter' -> 'main-meter'."""
    return re.sub(r"[^a-z0-9_.]+", "-", _ascii(text).lower()).strip("-._")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list) and len(value) > 4:
        return f"[{len(value)} entries]"
    return str(value)


# ---- writing ---------------------------------------------------------------------------------


def write_import(result: TelegrafImport, out_dir: Path) -> list[Path]:
    """Write out_dir/profiles/<name>.yaml and out_dir/site.yaml; returns the paths written."""
    profiles_dir = out_dir / "profiles"
    profiles_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, profile in result.profiles.items():
        path = profiles_dir / f"{name}.yaml"
        path.write_text(_profile_yaml(profile, result.source), encoding="utf-8")
        written.append(path)
    site_path = out_dir / "site.yaml"
    site_path.write_text(_site_yaml(result), encoding="utf-8")
    written.append(site_path)
    return written


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _profile_yaml(profile: dict[str, Any], source: str) -> str:
    head = {k: v for k, v in profile.items() if k != "points"}
    lines = [
        f"# Imported by `plantroom import telegraf {source}`.",
        "# Addresses are 0-based PDU addresses, as in Telegraf. Add units, ranges and a",
        "# brick_class before relying on it.",
        _dump(head).rstrip(),
        "points:",
    ]
    for point in profile["points"]:
        flow = yaml.safe_dump(
            point, sort_keys=False, default_flow_style=True, allow_unicode=True, width=10**6
        )
        lines.append(f"  - {flow.strip()}")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def _site_yaml(result: TelegrafImport) -> str:
    assets = []
    for device in result.devices:
        asset_id, name = result.assets.get(device["id"], (f"{device['id']}-asset", device["id"]))
        assets.append(
            {
                "id": asset_id,
                "name": name,
                "class": "Equipment",
                "devices": [device],
            }
        )
    doc = {
        "site": {"id": "imported", "name": f"Imported from Telegraf {Path(result.source).name}"},
        "profile_dirs": ["profiles"],
        "buildings": [
            {
                "id": "imported",
                "name": "Imported building",
                "floor_area_m2": 1,
                "occupants": 0,
                "assets": assets,
            }
        ],
    }
    body = _dump(doc)
    body = body.replace(
        "floor_area_m2: 1\n",
        "floor_area_m2: 1  # placeholder: edit to the real floor area (energy per m²)\n",
        1,
    ).replace(
        "occupants: 0\n",
        "occupants: 0  # placeholder: edit to the real head count (energy per person)\n",
        1,
    )
    head = [
        f"# Imported by `plantroom import telegraf {result.source}`.",
        "# Edit the building's floor area and occupants, and give each asset its Brick class",
        "# (Electrical_Meter, Pump, ...) instead of Equipment.",
    ]
    if result.unsupported:
        head.append("#")
        head.append("# Not imported from Telegraf (unsupported options):")
        head += [f"#   - {_one_line(item)}" for item in result.unsupported]
    if result.notes:
        head.append("#")
        head.append("# Assumptions to check:")
        head += [f"#   - {_one_line(item)}" for item in result.notes]
    return "\n".join(head) + "\n" + body


# ---- command ---------------------------------------------------------------------------------


def cmd_import_telegraf(args: argparse.Namespace) -> int:
    """`plantroom import telegraf FILE --out DIR`: write profiles and a site from Telegraf."""
    source, out_dir = Path(args.file), Path(args.out)
    try:
        result = import_telegraf(source)
    except TelegrafConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{source}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not result.profiles:
        print(f"{source}: nothing to import", file=sys.stderr)
        for item in result.unsupported + result.notes:
            print(f"  {item}", file=sys.stderr)
        return 2
    if (out_dir / "site.yaml").exists() and not getattr(args, "force", False):
        print(f"{out_dir / 'site.yaml'} exists; choose another --out folder", file=sys.stderr)
        return 2
    for path in write_import(result, out_dir):
        print(f"wrote {path}")
    sections = [
        ("renamed points", result.renamed),
        ("not imported (unsupported)", result.unsupported),
        ("assumptions to check", result.notes),
    ]
    for title, items in sections:
        if items:
            print(f"{title}:")
            for item in items:
                print(f"  {item}")
    try:
        load_site(out_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"{out_dir}: OK - {len(result.devices)} devices, {len(result.profiles)} profiles")
    return 0
