"""`plantroom import telegraf FILE`: Telegraf [[inputs.modbus]] sections become Plantroom
profiles and devices, every option that cannot be carried over is listed by name, and the
written site passes Plantroom's own validator.

Expected points are worked out by hand from Telegraf's documented semantics
(influxdata/telegraf plugins/inputs/modbus, v1.39):
  - addresses are 0-based PDU addresses, so they carry over unchanged;
  - register style: FIXED/UFIXED are signed/unsigned integers of the field's width, scaled;
    its byte_order has two letters per register (AB, ABCD, ABCDEFGH ...);
  - request style: one ABCD/DCBA/BADC/CDAB order per request, applied per width: a 16-bit value
    is big-endian for ABCD and CDAB and little-endian for DCBA and BADC; a 64-bit one keeps word
    order and byte swap, so CDAB reads GHEFCDAB and DCBA reads HGFEDCBA;
  - metric style: per metric one slave_id and byte order as in the request style, fields name
    their register (holding when unset); the fields of all metrics of one slave are read
    together, so one profile per slave, with the section's optimization across them;
  - unset serial settings fall to 19200 baud, 8 data bits, even parity, 1 stop bit.
Worked values (big-endian bytes of each value):
  float32 230.0 = 0x4366_0000; CDAB puts 0x0000 on the wire first, then 0x4366.
  uint64 123456789 = 0x0000_0000_075B_CD15; little-endian on the wire: 15 CD 5B 07 00 00 00 00.
  int64 0x0102_0304_0506_0708 in GHEFCDAB order: words 0x0708 0x0506 0x0304 0x0102.
  int16 -123 = 0xFF85; BA on the wire: 0x85FF.  int16 2301 = 0x08FD; BA: 0xFD08.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from collectors.decode import decode_raw, to_engineering
from config.importers.telegraf import (
    TelegrafConfigError,
    TelegrafImport,
    cmd_import_telegraf,
    import_telegraf,
    write_import,
)
from config.profile import Point
from plantroom.site import load_site

METER = """\
[agent]
  interval = "10s"

[[inputs.modbus]]
  name = "Main Meter"
  slave_id = 1
  timeout = "2s"
  controller = "tcp://192.168.1.50:502"
  busy_retries = 3
  busy_retries_wait = "200ms"
  interval = "5s"
  input_registers = [
    { name="Voltage L1", byte_order="ABCD", data_type="FLOAT32-IEEE", scale=1.0, address=[0, 1] },
    { name="current_l1", byte_order="ABCD", data_type="FLOAT32-IEEE", scale=1.0, address=[6, 7] },
    { name="total_kwh", byte_order="CDAB", data_type="FLOAT32-IEEE", scale=1.0, address=[342,343] },
    { name = "frequency", byte_order = "AB", data_type = "UFIXED", scale = 0.01, address = [70] },
  {name="energy", byte_order="HGFEDCBA", data_type="UFIXED", scale=1e-3, address=[100,101,102,103]},
    { name = "power", byte_order = "BADC", data_type = "FIXED", scale = 0.1, address = [110, 111] },
    { name = "temp", byte_order = "BA", data_type = "INT16", scale = 0.1, address = [200] },
    { name = "status_alarm", byte_order = "AB", data_type = "BIT", bit = 3, address = [201] },
    { name = "serial", byte_order = "ABCD", data_type = "STRING", address = [300, 301, 302, 303] },
    { name="legacy", byte_order="ABCD", data_type="FLOAT32", scale=0.1, address=[400, 401] },
    { name = "low_byte", byte_order = "AB", data_type = "UINT8L", scale = 1.0, address = [500] },
  ]
  coils = [
    { name = "relay", address = [0] },
  ]

  [inputs.modbus.tags]
    building = "A"

  [inputs.modbus.workarounds]
    pause_between_requests = "50ms"
    pause_after_connect = "1s"
    close_connection_after_gather = true
    read_coils_starting_at_zero = true
"""

GATEWAY = """\
[[inputs.modbus]]
  name = "Pump Gateway"
  controller = "tcp://10.0.0.5:502"
  configuration_type = "request"
  exclude_register_type_tag = true

  [[inputs.modbus.request]]
    slave_id = 3
    byte_order = "DCBA"
    register = "holding"
    measurement = "vfd"
    optimization = "max_insert"
    optimization_max_register_fill = 20
    fields = [
      { address = 0, name = "voltage", type = "INT16", scale = 0.1 },
      { address = 1, name = "current", type = "INT32", scale = 0.001 },
      { address = 5, name = "energy", type = "FLOAT32", scale = 0.001, measurement = "energy" },
      { address = 10, name = "run_hours", type = "UINT64", output = "INT64" },
      { address = 20, name = "status", type = "BIT", bit = 2 },
    ]
    [inputs.modbus.request.tags]
      machine = "pump-1"

  [[inputs.modbus.request]]
    slave_id = 3
    byte_order = "CDAB"
    register = "input"
    fields = [
      { address = 0, name = "flow", type = "FLOAT32" },
      { address = 2, name = "spare", type = "UINT16", omit = true },
      { address = 3, name = "total", type = "INT64" },
      { address = 7, name = "rpm", type = "UINT16" },
      { address = 8, name = "model", type = "STRING", length = 4 },
      { address = 12, name = "half", type = "FLOAT16" },
    ]

  [[inputs.modbus.request]]
    slave_id = 4
    register = "discrete"
    fields = [
      { address = 0, name = "Door Open", output = "BOOL" },
      { address = 1, name = "fault" },
    ]
"""

SERIAL = """\
[[inputs.modbus]]
  name = "Chiller"
  slave_id = 7
  controller = "file:///dev/ttyUSB0"
  baud_rate = 9600
  parity = "N"
  stop_bits = 2
  holding_registers = [
    { name = "supply_temp", byte_order = "AB", data_type = "INT16", scale = 0.1, address = [0] },
  ]
  [inputs.modbus.rs485]
    delay_rts_before_send = "1ms"

[[inputs.modbus]]
  name = "Boiler"
  slave_id = 2
  controller = "file:///dev/ttyUSB1"
  holding_registers = [
    { name = "flow_temp", byte_order = "AB", data_type = "INT16", scale = 0.1, address = [0] },
  ]
"""

OVER_TCP = """\
[[inputs.modbus]]
  name = "Water meter"
  slave_id = 1
  controller = "tcp://10.0.0.9:4001"
  transmission_mode = "RTUoverTCP"
  holding_registers = [
    { name="flow", byte_order="CDAB", data_type="FLOAT32-IEEE", scale=1.0, address=[0, 1] },
  ]

[[inputs.modbus]]
  name = "Old PLC"
  slave_id = 1
  controller = "tcp://10.0.0.10:502"
  transmission_mode = "ASCIIoverTCP"
  holding_registers = [
    { name = "level", byte_order = "AB", data_type = "INT16", scale = 1.0, address = [0] },
  ]
"""


def run(tmp_path: Path, text: str, name: str = "telegraf.conf") -> TelegrafImport:
    """Import a Telegraf config written into tmp_path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return import_telegraf(path)


def points(result: TelegrafImport, profile: str) -> dict[str, dict[str, Any]]:
    """The profile's points by name."""
    return {p["name"]: p for p in result.profiles[profile]["points"]}


def device(result: TelegrafImport, profile: str) -> dict[str, Any]:
    """The device that uses a profile."""
    (found,) = [d for d in result.devices if d["profile"] == profile]
    return found


def value(point: dict[str, Any], regs: list[int]) -> float | str | None:
    """What Plantroom's collector makes of these registers for an imported point."""
    p = Point.model_validate(point)
    return to_engineering(p, decode_raw(p, regs))[0]


def listed(result: TelegrafImport, *words: str) -> list[str]:
    """Unsupported items that mention every word."""
    return [u for u in result.unsupported if all(w in u for w in words)]


def test_register_style_fields_map_to_types_byte_orders_and_scales(tmp_path: Path) -> None:
    result = run(tmp_path, METER)
    pts = points(result, "main_meter")
    assert pts["voltage_l1"] == {
        "name": "voltage_l1",
        "register": "input",
        "address": 0,
        "type": "float32",
        "byte_order": "ABCD",
        "description": 'Telegraf field "Voltage L1"',
    }
    assert pts["total_kwh"] == {
        "name": "total_kwh",
        "register": "input",
        "address": 342,
        "type": "float32",
        "byte_order": "CDAB",
    }
    assert (pts["frequency"]["type"], pts["frequency"]["byte_order"]) == ("uint16", "AB")
    assert pts["frequency"]["scale"] == 0.01
    assert (pts["energy"]["type"], pts["energy"]["byte_order"]) == ("uint64", "HGFEDCBA")
    assert (pts["power"]["type"], pts["power"]["byte_order"]) == ("int32", "BADC")
    assert (pts["temp"]["type"], pts["temp"]["byte_order"], pts["temp"]["scale"]) == (
        "int16",
        "BA",
        0.1,
    )
    assert pts["status_alarm"] == {
        "name": "status_alarm",
        "register": "input",
        "address": 201,
        "type": "bit",
        "byte_order": "AB",
        "bit": 3,
    }
    # A string's register order is the 16-bit reading of its byte_order: ABCD -> AB.
    assert (pts["serial"]["type"], pts["serial"]["length"], pts["serial"]["byte_order"]) == (
        "string",
        4,
        "AB",
    )
    assert pts["relay"] == {"name": "relay", "register": "coil", "address": 0, "type": "bool"}
    assert "low_byte" not in pts
    assert listed(result, "low_byte", "UINT8L")
    # Register-style Telegraf reads only the registers its fields name.
    assert result.profiles["main_meter"]["max_gap"] == 0


def test_imported_points_decode_as_telegraf_documents(tmp_path: Path) -> None:
    pts = points(run(tmp_path, METER), "main_meter")
    assert value(pts["total_kwh"], [0x0000, 0x4366]) == 230.0
    assert value(pts["energy"], [0x15CD, 0x5B07, 0x0000, 0x0000]) == pytest.approx(123456.789)
    assert value(pts["temp"], [0x85FF]) == pytest.approx(-12.3)
    assert value(pts["status_alarm"], [0x0008]) == 1.0
    assert value(pts["serial"], [0x5344, 0x4D36, 0x3330, 0x0000]) == "SDM630"


def test_legacy_float32_is_read_as_unsigned_fixed_point_with_a_note(tmp_path: Path) -> None:
    result = run(tmp_path, METER)
    legacy = points(result, "main_meter")["legacy"]
    assert (legacy["type"], legacy["byte_order"], legacy["scale"]) == ("uint32", "ABCD", 0.1)
    assert [n for n in result.notes if "'legacy'" in n and "1.37" in n]


def test_register_style_device_carries_link_and_timing(tmp_path: Path) -> None:
    result = run(tmp_path, METER)
    assert device(result, "main_meter") == {
        "id": "main-meter-modbus",
        "profile": "main_meter",
        "unit_id": 1,
        "link": {"type": "tcp", "host": "192.168.1.50", "port": 502},
        "poll_interval": "5s",
        "timeout": "2s",
        "busy_delay": "200ms",
        "busy_retries": 3,
        "pause_between_requests": "50ms",
        "pause_after_connect": "1s",
        "close_after_poll": True,
    }


def test_options_without_an_equivalent_are_listed_by_name(tmp_path: Path) -> None:
    result = run(tmp_path, METER)
    where = 'inputs.modbus[0] "Main Meter"'
    assert listed(result, where, "workarounds.read_coils_starting_at_zero")
    assert listed(result, where, "tags", "building")
    gateway = run(tmp_path, GATEWAY)
    assert listed(gateway, "exclude_register_type_tag")
    assert listed(gateway, "request[0]", "measurement", "vfd")
    assert listed(gateway, "request[0]", "tags", "pump-1")
    assert listed(gateway, "request[0]", "measurement", "energy")
    assert listed(gateway, "request[0]", "output = INT64", "run_hours")
    assert listed(gateway, "request[1]", "omit")
    assert listed(gateway, "request[1]", "half", "FLOAT16")


def test_request_style_maps_each_width_of_the_request_byte_order(tmp_path: Path) -> None:
    result = run(tmp_path, GATEWAY)
    pts = points(result, "pump_gateway_unit_3")
    expected = {
        # DCBA request: 16-bit little-endian, 32-bit DCBA, 64-bit HGFEDCBA.
        "voltage": ("holding", 0, "int16", "BA", 0.1),
        "current": ("holding", 1, "int32", "DCBA", 0.001),
        "energy": ("holding", 5, "float32", "DCBA", 0.001),
        "run_hours": ("holding", 10, "uint64", "HGFEDCBA", 1.0),
        "status": ("holding", 20, "bit", "BA", 1.0),
        # CDAB request: 16-bit big-endian, 32-bit CDAB, 64-bit GHEFCDAB.
        "flow": ("input", 0, "float32", "CDAB", 1.0),
        "total": ("input", 3, "int64", "GHEFCDAB", 1.0),
        "rpm": ("input", 7, "uint16", "AB", 1.0),
        "model": ("input", 8, "string", "AB", 1.0),
    }
    got = {
        n: (p["register"], p["address"], p["type"], p["byte_order"], p.get("scale", 1.0))
        for n, p in pts.items()
    }
    assert got == expected
    assert pts["status"]["bit"] == 2
    assert pts["model"]["length"] == 4
    assert value(pts["voltage"], [0xFD08]) == pytest.approx(230.1)
    total = Point.model_validate(pts["total"])
    assert decode_raw(total, [0x0708, 0x0506, 0x0304, 0x0102]) == 0x0102030405060708
    assert value(pts["flow"], [0x0000, 0x4366]) == 230.0
    # max_insert with a fill of 20 becomes max_gap 20.
    assert result.profiles["pump_gateway_unit_3"]["max_gap"] == 20


def test_request_style_makes_one_device_per_slave(tmp_path: Path) -> None:
    result = run(tmp_path, GATEWAY)
    assert sorted(result.profiles) == ["pump_gateway_unit_3", "pump_gateway_unit_4"]
    assert [(d["id"], d["unit_id"]) for d in result.devices] == [
        ("pump-gateway-unit-3-modbus", 3),
        ("pump-gateway-unit-4-modbus", 4),
    ]
    unit4 = points(result, "pump_gateway_unit_4")
    assert unit4["door_open"] == {
        "name": "door_open",
        "register": "discrete",
        "address": 0,
        "type": "bool",
        "description": 'Telegraf field "Door Open"',
    }
    assert any("'Door Open' -> pump_gateway_unit_4.door_open" in r for r in result.renamed)
    # No optimisation and no omitted fields: read only what the fields name.
    assert result.profiles["pump_gateway_unit_4"]["max_gap"] == 0


def test_omitted_fields_set_max_gap_to_the_holes_telegraf_reads(tmp_path: Path) -> None:
    text = GATEWAY.replace('optimization = "max_insert"', "").replace(
        "optimization_max_register_fill = 20", ""
    )
    result = run(tmp_path, text)
    # The input request omits one register (2) between flow (0-1) and total (3-6).
    assert result.profiles["pump_gateway_unit_3"]["max_gap"] == 1


def test_serial_controller_becomes_rtu_with_telegraf_defaults_written_out(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, SERIAL)
    assert device(result, "chiller")["link"] == {
        "type": "rtu",
        "port": "/dev/ttyUSB0",
        "baudrate": 9600,
        "parity": "N",
        "bytesize": 8,
        "stopbits": 2,
    }
    assert device(result, "chiller")["unit_id"] == 7
    # Unset serial settings are Telegraf's (the serial library's) Modbus defaults, not ours.
    assert device(result, "boiler")["link"] == {
        "type": "rtu",
        "port": "/dev/ttyUSB1",
        "baudrate": 19200,
        "parity": "E",
        "bytesize": 8,
        "stopbits": 1,
    }
    assert listed(result, '"Chiller"', "rs485")
    assert [n for n in result.notes if '"Boiler"' in n and "baud_rate = 19200" in n]


def test_rtu_over_tcp_is_mapped_and_ascii_is_listed(tmp_path: Path) -> None:
    result = run(tmp_path, OVER_TCP)
    assert device(result, "water_meter")["link"] == {
        "type": "rtu_over_tcp",
        "host": "10.0.0.9",
        "port": 4001,
    }
    assert [d["profile"] for d in result.devices] == ["water_meter"]
    assert listed(result, '"Old PLC"', "transmission_mode", "ASCIIoverTCP")


# Telegraf's documented sample for the metric style (plugins/inputs/modbus README.md,
# sample_general_begin.conf + sample_metric.conf, v1.39), its optional tags written out. Its
# section-level slave_id belongs to the register style, which Telegraf ignores here too; its
# fields overlap (frequency, UINT32, spans 7-8; power_factor, INT64, 8-11; firmware 9-16).
METRIC_SAMPLE = """\
[[inputs.modbus]]
  name = "Device"
  slave_id = 1
  timeout = "1s"
  controller = "tcp://localhost:502"
  configuration_type = "metric"

  [[inputs.modbus.metric]]
    slave_id = 1
    fields = [
      { register="coil",    address=0, name="door_open"},
      { register="coil",    address=1, name="status_ok"},
      { register="holding", address=0, name="voltage",      type="INT16"   },
      { address=1, name="current",      type="INT32",   scale=0.001 },
      { address=5, name="energy",       type="FLOAT32", scale=0.001 },
      { address=7, name="frequency",    type="UINT32",  scale=0.1   },
      { address=8, name="power_factor", type="INT64",   scale=0.01  },
      { address=9, name="firmware",     type="STRING",  length=8    },
    ]

    [inputs.modbus.metric.tags]
      machine = "impresser"
      location = "main building"
"""

METRIC_GATEWAY = """\
[[inputs.modbus]]
  name = "Gateway"
  controller = "tcp://10.0.0.8:502"
  configuration_type = "metric"
  optimization = "max_insert"
  optimization_max_register_fill = 10

  [[inputs.modbus.metric]]
    slave_id = 1
    byte_order = "CDAB"
    measurement = "energy"
    fields = [
      { address = 0, name = "energy_wh", type = "UINT64" },
      { register = "input", address = 20, name = "voltage", type = "FLOAT32" },
    ]

  [[inputs.modbus.metric]]
    slave_id = 1
    byte_order = "DCBA"
    measurement = "backup"
    fields = [
      { address = 4, name = "voltage", type = "INT16", scale = 0.1 },
    ]

  [[inputs.modbus.metric]]
    slave_id = 2
    measurement = "pump"
    fields = [
      { register = "discrete", address = 3, name = "Running", output = "BOOL" },
      { address = 100, name = "run_hours", type = "UINT32", output = "UINT64" },
    ]
"""


def test_metric_style_sample_maps_each_field_to_a_point(tmp_path: Path) -> None:
    result = run(tmp_path, METRIC_SAMPLE)
    assert list(result.profiles) == ["device"]
    pts = points(result, "device")
    # Fields without register read holding registers; the metric's byte order is ABCD.
    assert pts == {
        "door_open": {"name": "door_open", "register": "coil", "address": 0, "type": "bool"},
        "status_ok": {"name": "status_ok", "register": "coil", "address": 1, "type": "bool"},
        "voltage": {
            "name": "voltage", "register": "holding", "address": 0, "type": "int16",
            "byte_order": "AB",
        },
        "current": {
            "name": "current", "register": "holding", "address": 1, "type": "int32",
            "byte_order": "ABCD", "scale": 0.001,
        },
        "energy": {
            "name": "energy", "register": "holding", "address": 5, "type": "float32",
            "byte_order": "ABCD", "scale": 0.001,
        },
        "frequency": {
            "name": "frequency", "register": "holding", "address": 7, "type": "uint32",
            "byte_order": "ABCD", "scale": 0.1,
        },
        "firmware": {
            "name": "firmware", "register": "holding", "address": 9, "type": "string",
            "byte_order": "AB", "length": 8,
        },
    }  # fmt: skip
    # Optimization none (the default): Telegraf reads no register between fields.
    assert result.profiles["device"]["max_gap"] == 0


def test_metric_style_sample_lists_what_is_not_carried_over(tmp_path: Path) -> None:
    result = run(tmp_path, METRIC_SAMPLE)
    where = 'inputs.modbus[0] "Device"'
    assert listed(result, where, "metric[0]", "tags", "impresser", "main building")
    # Plantroom points may not share registers: the overlapping INT64 is left out, by name.
    assert listed(result, "metric[0]", "'power_factor'", "7-8", "frequency", "not imported")
    assert listed(result, where, "slave_id", "another configuration_type", "'metric'")
    assert len(result.unsupported) == 3
    assert not listed(result, 'configuration_type = "metric"')  # the style itself imports


def test_metric_style_sample_device_carries_link_and_timing(tmp_path: Path) -> None:
    result = run(tmp_path, METRIC_SAMPLE)
    assert result.devices == [
        {
            "id": "device-modbus",
            "profile": "device",
            "unit_id": 1,
            "link": {"type": "tcp", "host": "localhost", "port": 502},
            "poll_interval": "10s",
            "timeout": "1s",
        }
    ]
    assert result.assets == {"device-modbus": ("device", "Device")}


def test_metric_style_sample_points_decode_as_telegraf_documents(tmp_path: Path) -> None:
    pts = points(run(tmp_path, METRIC_SAMPLE), "device")
    # INT16 without scale: Telegraf's output is INT64, an exact integer; Plantroom's an int.
    got = value(pts["voltage"], [0x08FD])
    assert (type(got), got) == (int, 2301)
    # 230000 = 0x0003_8270, x 0.001
    assert value(pts["current"], [0x0003, 0x8270]) == pytest.approx(230.0)
    assert value(pts["energy"], [0x4366, 0x0000]) == pytest.approx(0.23)
    assert value(pts["firmware"], [0x4657, 0x2D31, 0x2E32, 0, 0, 0, 0, 0]) == "FW-1.2"


def test_metric_style_collects_metrics_per_slave_with_the_sections_optimization(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, METRIC_GATEWAY)
    assert sorted(result.profiles) == ["gateway_unit_1", "gateway_unit_2"]
    assert [(d["id"], d["unit_id"]) for d in result.devices] == [
        ("gateway-unit-1-modbus", 1),
        ("gateway-unit-2-modbus", 2),
    ]
    unit1, unit2 = points(result, "gateway_unit_1"), points(result, "gateway_unit_2")
    got = {
        n: (p["register"], p["address"], p["type"], p["byte_order"], p.get("scale", 1.0))
        for n, p in unit1.items()
    }
    assert got == {
        # CDAB metric: 64-bit GHEFCDAB, 32-bit CDAB.
        "energy_wh": ("holding", 0, "uint64", "GHEFCDAB", 1.0),
        "voltage": ("input", 20, "float32", "CDAB", 1.0),
        # DCBA metric: 16-bit little-endian. Its 'voltage' takes its measurement's name.
        "backup_voltage": ("holding", 4, "int16", "BA", 0.1),
    }
    assert any("'voltage' -> gateway_unit_1.backup_voltage" in r for r in result.renamed)
    assert unit2 == {
        "running": {
            "name": "running", "register": "discrete", "address": 3, "type": "bool",
            "description": 'Telegraf field "Running"',
        },
        "run_hours": {
            "name": "run_hours", "register": "holding", "address": 100, "type": "uint32",
            "byte_order": "ABCD",
        },
    }  # fmt: skip
    # max_insert across all metrics: holes of up to 10 registers are read through.
    assert [result.profiles[n]["max_gap"] for n in sorted(result.profiles)] == [10, 10]
    # 2**53 + 1 = 0x0020_0000_0000_0001, words low first: exact, as Telegraf's UINT64 output.
    got_wh = value(unit1["energy_wh"], [0x0001, 0x0000, 0x0000, 0x0020])
    assert (type(got_wh), got_wh) == (int, 2**53 + 1)
    assert value(unit1["backup_voltage"], [0xFD08]) == pytest.approx(230.1)
    for measurement in ("energy", "backup", "pump"):
        assert listed(result, "measurement", f'"{measurement}"', "not kept")
    assert not listed(result, "output")  # UINT64 of an unscaled uint32: an exact int here too


def test_metric_style_options_telegraf_rejects_or_plantroom_lacks_are_listed(
    tmp_path: Path,
) -> None:
    text = """\
[[inputs.modbus]]
  name = "Odd"
  controller = "tcp://10.0.0.9:502"
  configuration_type = "metric"
  optimization = "shrink"
  optimization_max_register_fill = 5
  [[inputs.modbus.metric]]
    slave_id = 4
    fields = [
      { register = "holding", address = 0, name = "ok", type = "UINT16" },
      { register = "memory", address = 1, name = "nowhere", type = "UINT16" },
      { address = 2, name = "half", type = "FLOAT16" },
      { address = 3, name = "untyped" },
      { address = 4, name = "scaled", type = "INT32", scale = 0.5, output = "INT64" },
      { address = 6, name = "signed", type = "INT16", output = "UINT64" },
      { address = 7, name = "kept", type = "UINT16", omit = true },
    ]
  [[inputs.modbus.metric]]
    slave_id = 4
    byte_order = "ABDC"
    fields = [{ address = 9, name = "lost", type = "UINT16" }]
"""
    result = run(tmp_path, text)
    assert sorted(points(result, "odd")) == ["kept", "ok", "scaled", "signed"]
    assert result.profiles["odd"]["max_gap"] == 0
    assert listed(result, "optimization", '"shrink"', "none and max_insert")
    assert listed(result, "optimization_max_register_fill", "only used by max_insert")
    assert listed(result, "metric[0]", "'nowhere' register", '"memory"')
    assert listed(result, "metric[0]", "'half' type", "FLOAT16")
    assert listed(result, "metric[0]", "'untyped' type", "type missing")
    assert listed(result, "metric[0]", "output = INT64", "scaled", "floats")
    assert listed(result, "metric[0]", "output = UINT64", "signed", "wraps")
    assert listed(result, "metric[0]", "omit", "kept", "Telegraf rejects")
    assert listed(result, "metric[1]", "byte_order", '"ABDC"', "skipped")


def test_metric_style_import_writes_a_site_plantroom_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "telegraf.conf"
    path.write_text(METRIC_SAMPLE + METRIC_GATEWAY, encoding="utf-8")
    out = tmp_path / "out"
    assert cmd_import_telegraf(argparse.Namespace(file=str(path), out=str(out))) == 0
    assert f"{out}: OK - 3 devices, 3 profiles" in capsys.readouterr().out
    site = load_site(out)
    energy = site.profiles["gateway_unit_1"].point("energy_wh")
    assert (energy.type, energy.byte_order, energy.integral) == ("uint64", "GHEFCDAB", True)
    assert site.profiles["device"].point("firmware").length == 8


def test_two_sections_on_one_slave_share_a_device_with_a_poll_group(tmp_path: Path) -> None:
    text = """\
[[inputs.modbus]]
  name = "AHU fast"
  slave_id = 5
  controller = "tcp://10.0.0.20:502"
  interval = "5s"
  holding_registers = [
    { name = "supply_temp", byte_order = "AB", data_type = "INT16", scale = 0.1, address = [0] },
  ]

[[inputs.modbus]]
  name = "AHU slow"
  slave_id = 5
  controller = "tcp://10.0.0.20:502"
  interval = "5m"
  holding_registers = [
    { name="filter_hours", byte_order="ABCD", data_type="UINT32", scale=1.0, address=[10, 11] },
  ]
"""
    result = run(tmp_path, text)
    assert list(result.profiles) == ["ahu_fast"]
    assert len(result.devices) == 1
    profile = result.profiles["ahu_fast"]
    assert profile["groups"] == {"ahu_slow": "5m"}
    assert points(result, "ahu_fast")["filter_hours"]["group"] == "ahu_slow"
    assert "group" not in points(result, "ahu_fast")["supply_temp"]
    write_import(result, tmp_path / "site")
    assert load_site(tmp_path / "site").profiles["ahu_fast"].groups == {"ahu_slow": 300.0}


def test_a_slave_id_plantroom_cannot_address_is_listed(tmp_path: Path) -> None:
    text = """\
[[inputs.modbus]]
  name = "Reserved"
  slave_id = 250
  controller = "tcp://10.0.0.40:502"
  holding_registers = [
    { name = "x", byte_order = "AB", data_type = "INT16", scale = 1.0, address = [0] },
  ]
"""
    result = run(tmp_path, text)
    assert result.devices == []
    assert listed(result, '"Reserved"', "unit_id", "device not created")


def test_point_names_are_sanitised_and_collisions_renamed(tmp_path: Path) -> None:
    text = """\
[[inputs.modbus]]
  name = "Tank"
  slave_id = 1
  controller = "tcp://10.0.0.30:502"
  holding_registers = [
    { name = "Level", byte_order = "AB", data_type = "INT16", scale = 1.0, address = [0] },
    { name = "TankLevel", byte_order = "AB", data_type = "INT16", scale = 1.0, address = [1] },
    { name = "2nd pump", byte_order = "AB", data_type = "INT16", scale = 1.0, address = [2] },
  ]
  input_registers = [
    { name = "level", byte_order = "AB", data_type = "INT16", scale = 1.0, address = [0] },
  ]
"""
    result = run(tmp_path, text)
    names = [p["name"] for p in result.profiles["tank"]["points"]]
    assert names == ["level", "tank_level", "p_2nd_pump", "input_level"]
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
    assert len(result.renamed) == 4


def test_written_site_passes_plantroom_validation(tmp_path: Path) -> None:
    text = METER + GATEWAY + SERIAL + OVER_TCP
    result = run(tmp_path, text)
    out = tmp_path / "site"
    written = write_import(result, out)
    assert out / "site.yaml" in written
    assert {p.name for p in written if p.parent.name == "profiles"} == {
        f"{n}.yaml" for n in result.profiles
    }
    site = load_site(out)
    assert {d.device.id for d in site.devices()} == {d["id"] for d in result.devices}
    assert site.doc.buildings[0].floor_area_m2 == 1
    assert {ref.asset.brick_class for ref in site.assets()} == {"Equipment"}
    loaded = site.profiles["pump_gateway_unit_3"].point("total")
    assert (loaded.address, loaded.type, loaded.byte_order) == (3, "int64", "GHEFCDAB")
    text_out = (out / "site.yaml").read_text(encoding="utf-8")
    assert "# placeholder" in text_out
    assert "workarounds.read_coils_starting_at_zero" in text_out.split("site:")[0]
    assert yaml.safe_load(text_out)["profile_dirs"] == ["profiles"]


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.conf"
    path.write_text('[[inputs.modbus]]\n  name = "x"\n  slave_id = = 1\n', encoding="utf-8")
    with pytest.raises(TelegrafConfigError) as err:
        import_telegraf(path)
    assert err.value.line == 3
    assert str(err.value).startswith(f"{path}:3:")


def test_command_reports_invalid_toml_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.conf"
    path.write_text('[agent]\ninterval = "10s"\n[[inputs.modbus]\n', encoding="utf-8")
    args = argparse.Namespace(file=str(path), out=str(tmp_path / "out"))
    assert cmd_import_telegraf(args) == 2
    assert f"{path}:3:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_command_prints_files_renames_and_unsupported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "telegraf.conf"
    path.write_text(METER, encoding="utf-8")
    out = tmp_path / "out"
    assert cmd_import_telegraf(argparse.Namespace(file=str(path), out=str(out))) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out / 'profiles' / 'main_meter.yaml'}" in printed
    assert f"wrote {out / 'site.yaml'}" in printed
    assert "'Voltage L1' -> main_meter.voltage_l1" in printed
    assert "workarounds.read_coils_starting_at_zero" in printed
    # A second run does not overwrite the site it wrote.
    assert cmd_import_telegraf(argparse.Namespace(file=str(path), out=str(out))) == 2
