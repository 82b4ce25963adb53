"""`plantroom check-config PATH`: the demo passes, and every broken config is reported as
FILE:LINE: FIELD: MESSAGE on stderr with a non-zero exit.

Each test writes its broken config into tmp_path, and works out the expected line by finding
the edited line in the text it wrote, never by asking the loader.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plantroom.cli import check_config

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = ROOT / "config" / "sites" / "demo"
DEMO_TEXT = (DEMO_DIR / "site.yaml").read_text(encoding="utf-8")

# In the demo: buildings[1] is bldg-b; its floors[0] is b-b1, whose rooms are
# [0] b-b1-switch (b-main, ...) and [1] b-pump-house (pump-1, pump-2, water-main).
B_SWITCH = "buildings[1].floors[0].rooms[0]"
PUMP_HOUSE = "buildings[1].floors[0].rooms[1]"

# A small site whose one device uses a profile from the site's own profiles/ folder.
SMALL_SITE = """\
site: {id: test, name: Test site}
profile_dirs: [profiles]
buildings:
  - id: bldg
    name: Test building
    floor_area_m2: 100
    occupants: 5
    assets:
      - id: meter
        name: Test meter
        class: Electrical_Meter
        devices:
          - id: meter-dev
            profile: test_meter
            link: {type: tcp, host: 127.0.0.1, port: 1502}
"""

TEST_PROFILE = """\
profile: test_meter
points:
  - name: voltage
    register: input
    address: 0
    type: float32
    byte_order: ABCD
  - name: current
    register: input
    address: 2
    type: float32
    byte_order: CDAB
"""


def lines_with(text: str, needle: str) -> list[int]:
    """1-based numbers of the lines of text that contain needle."""
    return [n for n, line in enumerate(text.splitlines(), 1) if needle in line]


def line_of(text: str, needle: str) -> int:
    """1-based number of the one line of text that contains needle."""
    hits = lines_with(text, needle)
    assert len(hits) == 1, f"{needle!r} is on lines {hits}, expected exactly one"
    return hits[0]


def edit(text: str, old: str, new: str) -> str:
    """Replace the one occurrence of old (fails if old is absent or ambiguous)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def write_site(tmp_path: Path, text: str) -> Path:
    """Write site.yaml into tmp_path and return its resolved path."""
    path = tmp_path.resolve() / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_small_site(tmp_path: Path, profile_text: str = TEST_PROFILE) -> tuple[Path, Path]:
    """The small site plus profiles/test_meter.yaml; returns (site.yaml, profile) paths."""
    site = write_site(tmp_path, SMALL_SITE)
    profiles = site.parent / "profiles"
    profiles.mkdir()
    profile = profiles / "test_meter.yaml"
    profile.write_text(profile_text, encoding="utf-8")
    return site, profile


#: "Today" for check-config: mid-2026, when the bundled holiday table (to 2026) is far from
#: running out, so no calendar warning is due (test_holiday_years.py tests those warnings).
MIDYEAR = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `plantroom check-config path` in-process as of MIDYEAR: (exit code, stdout, stderr)."""
    rc = check_config(path, now=MIDYEAR)
    out = capsys.readouterr()
    return rc, out.out, out.err


def error_lines(stderr: str) -> list[str]:
    """The FILE:LINE: FIELD: MESSAGE lines of stderr (without the closing count)."""
    return [ln for ln in stderr.splitlines() if ln and not ln.endswith("error(s)")]


def assert_one_error(stderr: str, prefix: str, *words: str) -> None:
    """stderr reports exactly one error, starting with prefix and mentioning words."""
    errors = error_lines(stderr)
    assert len(errors) == 1, stderr
    assert errors[0].startswith(prefix), f"expected {prefix!r}, got {errors[0]!r}"
    for word in words:
        assert word in errors[0], errors[0]
    assert stderr.rstrip().endswith("1 error(s)")


# --- configs that pass ----------------------------------------------------------------------


def test_demo_site_passes_check_config(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = check(DEMO_DIR, capsys)
    assert (rc, err) == (0, "")
    assert out.startswith(f"{DEMO_DIR / 'site.yaml'}: OK")


def test_small_site_with_its_own_profile_folder_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The baseline the broken-profile tests below edit: it must be valid as written.
    site, _ = write_small_site(tmp_path)
    rc, out, err = check(site, capsys)
    assert (rc, err) == (0, "")
    assert "OK" in out


def test_set_environment_variable_is_substituted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANTROOM_TEST_METER_PORT", "1503")
    site = write_site(
        tmp_path, edit(DEMO_TEXT, "port: 15023}", "port: ${PLANTROOM_TEST_METER_PORT}}")
    )
    rc, _, err = check(site, capsys)
    assert (rc, err) == (0, "")


# --- one broken site.yaml each --------------------------------------------------------------


def test_misspelt_field_is_reported_as_unknown_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(
        DEMO_TEXT,
        "{id: pump-1-drive, profile: abb_acx580, unit_id: 1, poll_interval: 5s,",
        "{id: pump-1-drive, profile: abb_acx580, unit_id: 1, poll_intervall: 5s,",
    )
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "poll_intervall")
    field = f"{PUMP_HOUSE}.assets[0].devices[0].poll_intervall"
    assert_one_error(err, f"{site}:{line}: {field}: unknown field")


def test_port_that_is_not_a_number_is_reported_as_wrong_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEMO_TEXT, "port: 15023}", 'port: "abc"}')
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, 'port: "abc"')
    field = f"{PUMP_HOUSE}.assets[2].devices[0].link.port"
    assert_one_error(err, f"{site}:{line}: {field}: ", "integer")


def test_device_naming_an_unknown_profile_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(
        DEMO_TEXT, "water-main-meter, profile: tuf2000m", "water-main-meter, profile: tuf3000m"
    )
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "profile: tuf3000m")
    field = f"{PUMP_HOUSE}.assets[2].devices[0].profile"
    assert_one_error(err, f"{site}:{line}: {field}: unknown profile 'tuf3000m'", "tuf2000m")


def test_missing_required_field_is_reported_at_its_parent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEMO_TEXT, "    floor_area_m2: 9800\n", "")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "- id: bldg-b")
    assert_one_error(err, f"{site}:{line}: buildings[1].floor_area_m2: required field is missing")


def test_duplicate_device_id_is_reported_at_the_second_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEMO_TEXT, "{id: b-main-meter,", "{id: a-main-meter,")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    first, second = lines_with(text, "{id: a-main-meter,")
    assert first < second
    field = f"{B_SWITCH}.assets[0].devices[0].id"
    assert_one_error(err, f"{site}:{second}: {field}: duplicate device id 'a-main-meter'")


def test_yaml_syntax_error_is_reported_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An unquoted ': ' inside a value is a classic YAML slip.
    text = edit(DEMO_TEXT, "name: Building B (Services Hall)", "name: Building B: Services Hall")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "name: Building B: Services Hall")
    assert_one_error(err, f"{site}:{line}: <document>: YAML syntax error")


def test_rule_naming_a_point_no_profile_has_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEMO_TEXT, "point: voltage_l1\n    below: 207", "point: voltage_l9\n    below: 207")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "point: voltage_l9")
    # supply-voltage-low is the fourth rule of the demo.
    assert_one_error(
        err, f"{site}:{line}: rules[3].point: no device profile has a point 'voltage_l9'"
    )


def test_duplicate_yaml_key_is_reported_at_the_repeated_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEMO_TEXT, "    occupants: 310\n", "    occupants: 310\n    occupants: 311\n")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "occupants: 311")
    assert_one_error(err, f"{site}:{line}: buildings[1].occupants: duplicate key")


def test_unset_environment_variable_without_default_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANTROOM_TEST_UNSET_HOST", raising=False)
    text = edit(
        DEMO_TEXT,
        '"${PLANTROOM_SIM_HOST:-127.0.0.1}", port: 15023}',
        '"${PLANTROOM_TEST_UNSET_HOST}", port: 15023}',
    )
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "PLANTROOM_TEST_UNSET_HOST")
    assert_one_error(
        err, f"{site}:{line}: PLANTROOM_TEST_UNSET_HOST: environment variable is not set"
    )


def test_unset_variable_in_a_flow_mapping_is_reported_as_unset_not_as_yaml_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Left unsubstituted, "{..., port: ${X}}" is not valid YAML; the user must hear about X.
    monkeypatch.delenv("PLANTROOM_TEST_UNSET_PORT", raising=False)
    text = edit(DEMO_TEXT, "port: 15023}", "port: ${PLANTROOM_TEST_UNSET_PORT}}")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "PLANTROOM_TEST_UNSET_PORT")
    assert_one_error(
        err, f"{site}:{line}: PLANTROOM_TEST_UNSET_PORT: environment variable is not set"
    )


# --- one broken profile each ----------------------------------------------------------------


def test_duplicate_point_name_in_a_profile_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(TEST_PROFILE, "  - name: current\n", "  - name: voltage\n")
    site, profile = write_small_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    _, second = lines_with(text, "- name: voltage")
    assert_one_error(
        err, f"{profile}:{second}: points[1].name: duplicate point name 'voltage'", "points[0]"
    )


def test_overlapping_register_addresses_in_a_profile_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # voltage is a float32 at 0-1; current moved to 1 would read 1-2.
    text = edit(TEST_PROFILE, "    address: 2\n", "    address: 1\n")
    site, profile = write_small_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = line_of(text, "address: 1")
    assert_one_error(err, f"{profile}:{line}: points[1].address: ", "overlap", "'voltage'")


def test_byte_order_that_does_not_fit_the_type_is_reported_at_byte_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # AB is a 16-bit order; a float32 needs one of the four 32-bit orders.
    text = edit(TEST_PROFILE, "byte_order: CDAB", "byte_order: AB")
    site, profile = write_small_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    line = text.splitlines().index("    byte_order: AB") + 1
    assert_one_error(err, f"{profile}:{line}: points[1].byte_order: ", "float32", "ABCD")


def test_device_using_a_broken_profile_is_not_also_called_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(TEST_PROFILE, "byte_order: CDAB", "byte_order: AB")
    site, profile = write_small_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    assert "unknown profile" not in err
    assert all(ln.startswith(f"{profile}:") for ln in error_lines(err)), err


def test_check_config_accepts_a_profile_file_on_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(TEST_PROFILE, "  - name: current\n", "  - name: voltage\n")
    _, profile = write_small_site(tmp_path, text)
    rc, _, err = check(profile, capsys)
    assert rc != 0
    _, second = lines_with(text, "- name: voltage")
    assert_one_error(err, f"{profile}:{second}: points[1].name: duplicate point name")


# --- several errors at once -----------------------------------------------------------------


def test_every_schema_error_in_one_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DEMO_TEXT
    text = edit(text, "port: 15023}", 'port: "abc"}')
    text = edit(text, "    floor_area_m2: 9800\n", "")
    text = edit(text, "    occupants: 310\n", "    occupants: 310\n    occupants: 311\n")
    text = edit(text, "  seed: 7\n", "  seed: 7\n  speed: 2\n")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    port_line = line_of(text, 'port: "abc"')
    expected = [
        f"{site}:{line_of(text, 'occupants: 311')}: buildings[1].occupants: duplicate key",
        f"{site}:{line_of(text, '- id: bldg-b')}: buildings[1].floor_area_m2: "
        "required field is missing",
        f"{site}:{port_line}: {PUMP_HOUSE}.assets[2].devices[0].link.port: ",
        f"{site}:{line_of(text, 'speed: 2')}: simulation.speed: unknown field",
    ]
    errors = error_lines(err)
    assert len(errors) == len(expected), err
    for want in expected:
        assert any(e.startswith(want) for e in errors), f"{want!r} not in\n{err}"
    assert err.rstrip().endswith(f"{len(expected)} error(s)")


def test_every_cross_reference_error_in_one_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DEMO_TEXT
    text = edit(text, "water-main-meter, profile: tuf2000m", "water-main-meter, profile: tuf3000m")
    text = edit(text, "{id: b-main-meter,", "{id: a-main-meter,")
    text = edit(text, "point: voltage_l1\n    below: 207", "point: voltage_l9\n    below: 207")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    expected = [
        f"{site}:{line_of(text, 'profile: tuf3000m')}: "
        f"{PUMP_HOUSE}.assets[2].devices[0].profile: unknown profile",
        f"{site}:{lines_with(text, '{id: a-main-meter,')[1]}: "
        f"{B_SWITCH}.assets[0].devices[0].id: duplicate device id",
        f"{site}:{line_of(text, 'point: voltage_l9')}: rules[3].point: no device profile",
    ]
    errors = error_lines(err)
    assert len(errors) == len(expected), err
    for want in expected:
        assert any(e.startswith(want) for e in errors), f"{want!r} not in\n{err}"


def test_every_unset_environment_variable_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANTROOM_TEST_UNSET_A", raising=False)
    monkeypatch.delenv("PLANTROOM_TEST_UNSET_B", raising=False)
    text = edit(DEMO_TEXT, "name: Building A main meter", "name: ${PLANTROOM_TEST_UNSET_A}")
    text = edit(text, "name: Building B main meter", "name: ${PLANTROOM_TEST_UNSET_B}")
    site = write_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    assert error_lines(err) == [
        f"{site}:{line}: {name}: environment variable is not set"
        for name, line in (
            ("PLANTROOM_TEST_UNSET_A", line_of(text, "PLANTROOM_TEST_UNSET_A")),
            ("PLANTROOM_TEST_UNSET_B", line_of(text, "PLANTROOM_TEST_UNSET_B")),
        )
    ]


def test_every_error_in_one_profile_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = TEST_PROFILE + (
        "  - name: voltage\n    register: input\n    address: 1\n    type: uint16\n"
    )
    site, profile = write_small_site(tmp_path, text)
    rc, _, err = check(site, capsys)
    assert rc != 0
    _, name_line = lines_with(text, "- name: voltage")
    expected = [
        f"{profile}:{name_line}: points[2].name: duplicate point name 'voltage'",
        f"{profile}:{line_of(text, 'address: 1')}: points[2].address: ",
    ]
    errors = error_lines(err)
    assert len(errors) == len(expected), err
    for want in expected:
        assert any(e.startswith(want) for e in errors), f"{want!r} not in\n{err}"


# --- the installed command ------------------------------------------------------------------


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANTROOM_TEST_UNSET")}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.slow
def test_plantroom_command_passes_the_demo_site(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("plantroom")
    if not exe.exists():
        pytest.skip(f"{exe} is not installed (pip install -e .)")
    proc = _run(str(exe), "check-config", str(DEMO_DIR), cwd=tmp_path)
    assert proc.returncode == 0
    # the real date decides whether the holiday calendar's coverage warning is due
    assert [ln for ln in proc.stderr.splitlines() if ": warning: " not in ln] == []
    assert "OK" in proc.stdout


@pytest.mark.slow
def test_python_m_plantroom_cli_reports_a_broken_site_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    text = edit(DEMO_TEXT, "port: 15023}", 'port: "abc"}')
    site = write_site(tmp_path, text)
    proc = _run(sys.executable, "-m", "plantroom.cli", "check-config", str(site), cwd=tmp_path)
    assert proc.returncode != 0
    line = line_of(text, 'port: "abc"')
    field = f"{PUMP_HOUSE}.assets[2].devices[0].link.port"
    assert_one_error(proc.stderr, f"{site}:{line}: {field}: ", "integer")
