"""Offline checks of docker-compose.yml, the Dockerfile build contexts and Grafana provisioning.

No Docker engine is needed: the compose file is parsed with PyYAML and validated with
`docker-compose config -q` (Debian's docker-compose 1.29). Nothing from Plantroom is imported.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DATASOURCE_FILE = ROOT / "dashboards" / "provisioning" / "datasources" / "influxdb.yaml"
DASHBOARD_PROVIDER_FILE = ROOT / "dashboards" / "provisioning" / "dashboards" / "plantroom.yaml"

REQUIRED_SERVICES = {"influxdb", "grafana", "api", "collector", "simulator", "postgres"}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}, ${NAME?err}; `$$` is a literal `$`.
_INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>\w+)(?P<modifier>:?[-?][^}]*)?\}")


def _load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = _load_yaml(COMPOSE_FILE)
    assert isinstance(doc, dict), f"{COMPOSE_FILE.name} is not a YAML mapping"
    assert isinstance(doc.get("services"), dict), f"{COMPOSE_FILE.name} has no services mapping"
    return doc


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    """A service's environment as a mapping, whichever of the two compose syntaxes it uses."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return env
    result: dict[str, Any] = {}
    for item in env:
        name, sep, value = str(item).partition("=")
        result[name] = value if sep else None
    return result


def _bind_mounts(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(host source, container target) of each bind mount of a service, in either syntax."""
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                yield str(volume["source"]), str(volume["target"])
            continue
        source, _, rest = str(volume).partition(":")
        target = rest.split(":", 1)[0]
        # Short syntax: a source starting like a path is a bind mount, otherwise a named volume.
        if source.startswith((".", "/", "~")):
            yield source, target


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def test_compose_defines_the_required_services(services: dict[str, dict[str, Any]]) -> None:
    missing = REQUIRED_SERVICES - services.keys()
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_every_bind_mounted_host_path_exists_in_the_repo(
    services: dict[str, dict[str, Any]],
) -> None:
    problems = []
    for name, service in services.items():
        for source, target in _bind_mounts(service):
            if not source.startswith("."):
                problems.append(f"{name}: {source} -> {target} is not relative to the repo")
                continue
            host = (ROOT / source).resolve()
            if not host.is_relative_to(ROOT):
                problems.append(f"{name}: {source} -> {target} points outside the repo")
            elif not host.exists():
                problems.append(f"{name}: {source} -> {target} does not exist in the repo")
    assert not problems, "\n".join(problems)


def test_every_build_context_has_a_dockerfile(services: dict[str, dict[str, Any]]) -> None:
    built = {name: s["build"] for name, s in services.items() if "build" in s}
    assert built, "no service is built from this repo"
    problems = []
    for name, build in built.items():
        if isinstance(build, str):
            context, dockerfile = build, "Dockerfile"
        else:
            context = build.get("context", ".")
            dockerfile = build.get("dockerfile", "Dockerfile")
        path = (ROOT / context / dockerfile).resolve()
        if not path.is_file():
            problems.append(f"{name}: build context {context!r} has no {dockerfile}")
    assert not problems, "\n".join(problems)


def test_every_compose_variable_has_a_default(compose: dict[str, Any]) -> None:
    """`docker compose up` must work from a bare shell: no ${VAR} without a default."""
    bare = sorted(
        {
            m["name"]
            for text in _strings(compose)
            for m in _INTERPOLATION.finditer(text)
            if not m["modifier"]
        }
    )
    assert not bare, f"variables without a default in docker-compose.yml: {bare}"


@pytest.mark.slow
def test_docker_compose_config_accepts_the_compose_file() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        message = (
            "docker-compose is not installed, so docker-compose.yml was not validated; "
            "install it with `apt-get install docker-compose`"
        )
        if "CI" in os.environ:
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"`docker-compose -f docker-compose.yml config -q` exited {result.returncode}:\n"
        f"{result.stdout}{result.stderr}"
    )


def test_collector_reaches_the_simulator_by_service_name(
    services: dict[str, dict[str, Any]],
) -> None:
    env = _environment(services["collector"])
    assert env.get("PLANTROOM_SIM_HOST") == "simulator"
    assert env.get("PLANTROOM_INFLUX_V2_URL") == "http://influxdb:8086"


def test_api_and_collector_share_the_postgres_database(
    services: dict[str, dict[str, Any]],
) -> None:
    urls = {
        name: _environment(services[name]).get("PLANTROOM_DATABASE_URL")
        for name in ("api", "collector")
    }
    assert urls["api"] == urls["collector"], urls
    assert str(urls["api"]).startswith("postgresql+psycopg://"), urls
    assert "@postgres:" in str(urls["api"]), urls


def test_grafana_datasource_is_influxql_with_uid_plantroom_influx() -> None:
    doc = _load_yaml(DATASOURCE_FILE)
    assert doc.get("apiVersion") == 1
    by_uid = {ds.get("uid"): ds for ds in doc.get("datasources") or []}
    assert "plantroom-influx" in by_uid, f"no data source with uid plantroom-influx: {by_uid}"
    ds = by_uid["plantroom-influx"]
    assert ds["type"] == "influxdb"
    json_data = ds.get("jsonData") or {}
    assert json_data.get("version") == "InfluxQL"
    assert json_data.get("dbName") == "plantroom"
    assert json_data.get("httpHeaderName1") == "Authorization"
    header_value = (ds.get("secureJsonData") or {}).get("httpHeaderValue1", "")
    assert header_value == "Token ${INFLUXDB_TOKEN}"


def test_grafana_service_sets_the_token_the_datasource_expands(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana_env = _environment(services["grafana"])
    influx_env = _environment(services["influxdb"])
    assert grafana_env.get("INFLUXDB_TOKEN"), "grafana has no INFLUXDB_TOKEN to expand"
    assert grafana_env["INFLUXDB_TOKEN"] == influx_env.get("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN")


def test_grafana_loads_dashboards_from_the_mounted_generated_folder(
    services: dict[str, dict[str, Any]],
) -> None:
    mounts = {
        os.path.normpath(source): target for source, target in _bind_mounts(services["grafana"])
    }
    generated_target = mounts.get(os.path.normpath("./dashboards/generated"))
    assert generated_target == "/var/lib/grafana/dashboards", mounts
    assert any(t.startswith("/etc/grafana/provisioning") for t in mounts.values()), mounts
    providers = _load_yaml(DASHBOARD_PROVIDER_FILE).get("providers") or []
    paths = [p.get("options", {}).get("path") for p in providers if p.get("type") == "file"]
    assert paths == [generated_target], providers
