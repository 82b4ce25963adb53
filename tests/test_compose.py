"""Offline checks of docker-compose.yml, .env.example, the Dockerfile build contexts, Grafana
provisioning and the databases' first-start scripts under deploy/.

No Docker engine is needed: the compose file is parsed with PyYAML and validated with
`docker-compose config -q` (Debian's docker-compose 1.29). Nothing from Plantroom is imported.
The PostgreSQL role script is run for real against the test server (under a throw-away role
name, since roles are shared by every database of the server); the InfluxDB 2.x one cannot run
here (no InfluxDB 2.x server), so it is checked as text.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DATASOURCES_DIR = ROOT / "dashboards" / "provisioning" / "datasources"
DATASOURCE_FILE = DATASOURCES_DIR / "influxdb.yaml"
PG_DATASOURCE_FILE = DATASOURCES_DIR / "postgres.yaml"
DASHBOARD_PROVIDER_FILE = ROOT / "dashboards" / "provisioning" / "dashboards" / "plantroom.yaml"
GENERATED_DIR = ROOT / "dashboards" / "generated"
DEMO_SITE_FILE = ROOT / "config" / "sites" / "demo" / "site.yaml"
ROLE_SCRIPT = ROOT / "deploy" / "postgres" / "10-grafana-role.sh"
DBRP_SCRIPT = ROOT / "deploy" / "influxdb" / "10-dbrp.sh"

REQUIRED_SERVICES = {"influxdb", "grafana", "api", "simulator", "postgres", "migrate"}
#: The shared contract (plan): the uids the generated dashboards refer to.
PROVISIONED_UIDS = {"plantroom-influx", "plantroom-pg"}
#: The languages `plantroom dashboards build` writes, one folder each under generated/.
LANGUAGES = {"en", "zh-CN"}
READ_ONLY_ROLE = "plantroom_grafana"

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


def _collectors(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services that run `plantroom collect`."""
    return {
        name: s
        for name, s in services.items()
        if list(s.get("command") or [])[:2] == ["plantroom", "collect"]
    }


def _flag_values(command: list[str], flag: str) -> list[str]:
    """Every value given to `flag` in an exec-form command."""
    return [command[i + 1] for i, arg in enumerate(command[:-1]) if arg == flag]


def _env_example() -> dict[str, str]:
    """NAME=value lines of .env.example, commented-out ones (`# NAME=value`) included."""
    found = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            found[m[2]] = m[3]
    return found


def _docker_compose() -> str:
    """The docker-compose binary; skips locally (fails under CI) when it is missing."""
    binary = shutil.which("docker-compose")
    if binary is None:
        message = (
            "docker-compose is not installed, so docker-compose.yml was not validated; "
            "install it with `apt-get install docker-compose`"
        )
        if "CI" in os.environ:
            pytest.fail(message)
        pytest.skip(message)
    return binary


def _json_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _json_nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _json_nodes(item)


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
@pytest.mark.parametrize(
    ("profile", "env_file"),
    [(None, False), ("demo", False), (None, True), ("demo", True)],
    ids=["defaults", "demo-profile", "env-example", "demo-profile-env-example"],
)
def test_docker_compose_config_accepts_the_compose_file(
    profile: str | None, env_file: bool, tmp_path: Path
) -> None:
    """Valid with and without the demo profile, from a bare shell and with a .env made from
    .env.example (its commented-out lines left commented, as a user copies it)."""
    args = [_docker_compose(), "-f", str(COMPOSE_FILE)]
    if env_file:
        dotenv = tmp_path / ".env"
        shutil.copyfile(ENV_EXAMPLE, dotenv)
        args += ["--env-file", str(dotenv)]
    if profile:
        args += ["--profile", profile]
    env = {k: v for k, v in os.environ.items() if k != "COMPOSE_PROFILES"}
    result = subprocess.run(
        [*args, "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"`{' '.join(args[1:])} config -q` exited {result.returncode}:\n"
        f"{result.stdout}{result.stderr}"
    )


def test_every_compose_variable_is_listed_in_env_example(compose: dict[str, Any]) -> None:
    used = {m["name"] for text in _strings(compose) for m in _INTERPOLATION.finditer(text)}
    listed = _env_example()
    missing = sorted(used - listed.keys())
    assert not missing, f".env.example does not list {missing}, which docker-compose.yml uses"


def test_env_example_lists_every_passed_through_variable(
    services: dict[str, dict[str, Any]],
) -> None:
    """Variables a service takes from the shell or .env by name alone (`NAME:` with no value)."""
    passed = {
        name
        for service in services.values()
        for name, value in _environment(service).items()
        if value is None
    }
    missing = sorted(passed - _env_example().keys())
    assert not missing, f".env.example does not list {missing}, which services pass through"


def test_env_example_secrets_are_placeholders_not_the_development_defaults(
    compose: dict[str, Any],
) -> None:
    """A .env copied from the example must not quietly run with the defaults anyone can read."""
    defaults = {
        m["name"]: m["modifier"][2:]
        for text in _strings(compose)
        for m in _INTERPOLATION.finditer(text)
        if m["modifier"] and m["modifier"].startswith(":-")
    }
    listed = _env_example()
    secrets_ = [n for n in listed if n.endswith(("_PASSWORD", "_TOKEN", "_KEY"))]
    assert {
        "INFLUXDB_TOKEN",
        "POSTGRES_PASSWORD",
        "GRAFANA_DB_PASSWORD",
        "GRAFANA_ADMIN_PASSWORD",
    } <= set(secrets_)
    reused = sorted(n for n in secrets_ if n in defaults and listed[n] == defaults[n])
    assert not reused, f".env.example sets {reused} to the development defaults"
    assert all("change-me" in listed[n] for n in secrets_), {n: listed[n] for n in secrets_}


def test_collectors_reach_the_simulator_and_influxdb_by_service_name(
    services: dict[str, dict[str, Any]],
) -> None:
    collectors = _collectors(services)
    assert collectors, "no service runs `plantroom collect`"
    for name, service in collectors.items():
        env = _environment(service)
        assert env.get("PLANTROOM_SIM_HOST") == "simulator", name
        assert env.get("PLANTROOM_INFLUX_V2_URL") == "http://influxdb:8086", name


def test_api_and_collectors_share_the_postgres_database(
    services: dict[str, dict[str, Any]],
) -> None:
    names = ["api", "migrate", *_collectors(services)]
    urls = {name: _environment(services[name]).get("PLANTROOM_DATABASE_URL") for name in names}
    assert len(set(urls.values())) == 1, urls
    assert str(urls["api"]).startswith("postgresql+psycopg://"), urls
    assert "@postgres:" in str(urls["api"]), urls


def test_each_collector_owns_its_own_building_of_the_demo(
    services: dict[str, dict[str, Any]],
) -> None:
    site = _load_yaml(DEMO_SITE_FILE)
    buildings = {b["id"] for b in site["buildings"]}
    collectors = _collectors(services)
    assert len(collectors) >= 2, f"one collector per building, found {sorted(collectors)}"
    owned: dict[str, str] = {}
    for name, service in collectors.items():
        command = list(service["command"])
        assert _flag_values(command, "--site") == ["config/sites/demo"], (name, command)
        mine = _flag_values(command, "--building")
        assert mine, f"{name} polls every building: {command}"
        for building in mine:
            assert building in buildings, f"{name}: no building {building!r} in {DEMO_SITE_FILE}"
            assert building not in owned, f"{building} given to {owned.get(building)} and {name}"
            owned[building] = name
    assert set(owned) == buildings, f"buildings nobody collects: {sorted(buildings - set(owned))}"


def test_each_collector_buffers_into_a_volume_of_its_own(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    volumes: dict[str, str] = {}
    for name, service in _collectors(services).items():
        mine = [
            str(v).split(":")[0]
            for v in service.get("volumes") or []
            if str(v).split(":")[1:2] == ["/app/data"]
        ]
        assert len(mine) == 1, (
            f"{name}: /app/data is not one named volume: {service.get('volumes')}"
        )
        assert mine[0] in (compose.get("volumes") or {}), f"{name}: {mine[0]} is not declared"
        assert mine[0] not in volumes, f"{name} shares {mine[0]} with {volumes.get(mine[0])}"
        volumes[mine[0]] = name


def test_the_simulator_is_behind_a_profile_and_nothing_depends_on_it(
    services: dict[str, dict[str, Any]],
) -> None:
    """Compose v2 refuses a dependency on a service whose profile is off."""
    assert services["simulator"].get("profiles") == ["demo"]
    dependants = sorted(
        n for n, s in services.items() if "simulator" in (s.get("depends_on") or {})
    )
    assert not dependants, f"{dependants} depend on the simulator, which only runs in `demo`"
    profiled = sorted(n for n, s in services.items() if s.get("profiles") and n != "simulator")
    assert not profiled, f"only the simulator is optional; {profiled} have profiles too"


def test_the_api_writes_the_energy_rollups_into_the_influxdb_bucket(
    services: dict[str, dict[str, Any]],
) -> None:
    """The api runs the scheduled energy_daily rollup: it needs the InfluxDB 2.x settings, the
    same bucket and org the collectors write and the init script maps for InfluxQL."""
    api = _environment(services["api"])
    influx = _environment(services["influxdb"])
    assert api.get("PLANTROOM_INFLUX_V2_URL") == "http://influxdb:8086"
    assert api.get("PLANTROOM_INFLUX_BUCKET") == influx["DOCKER_INFLUXDB_INIT_BUCKET"]
    assert api.get("PLANTROOM_INFLUX_ORG") == influx["DOCKER_INFLUXDB_INIT_ORG"]
    assert api.get("PLANTROOM_INFLUX_TOKEN") == influx["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"]
    for name, service in _collectors(services).items():
        env = _environment(service)
        assert env.get("PLANTROOM_INFLUX_BUCKET") == api["PLANTROOM_INFLUX_BUCKET"], name


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


def test_grafana_provisions_both_data_sources_the_dashboards_use() -> None:
    provisioned: dict[str, dict[str, Any]] = {}
    for path in sorted(DATASOURCES_DIR.glob("*.yaml")):
        for ds in _load_yaml(path).get("datasources") or []:
            assert ds.get("uid") not in provisioned, f"uid {ds.get('uid')} provisioned twice"
            provisioned[ds.get("uid")] = ds
    assert set(provisioned) == PROVISIONED_UIDS, sorted(provisioned)
    # Every {"datasource": {"uid": ...}} of every generated panel, target and variable; Grafana's
    # own ("-- Grafana --", "-- Mixed --") and variable references ("${ds}") are not provisioned.
    used = {
        str(node["datasource"]["uid"])
        for path in GENERATED_DIR.rglob("*.json")
        for node in _json_nodes(json.loads(path.read_text(encoding="utf-8")))
        if isinstance(node.get("datasource"), dict)
        and "uid" in node["datasource"]
        and not str(node["datasource"]["uid"]).startswith(("-- ", "$"))
    }
    unknown = sorted(used - set(provisioned))
    assert not unknown, f"generated dashboards use data sources nobody provisions: {unknown}"


def test_grafana_postgres_datasource_is_the_read_only_role(
    services: dict[str, dict[str, Any]],
) -> None:
    doc = _load_yaml(PG_DATASOURCE_FILE)
    assert doc.get("apiVersion") == 1
    (ds,) = [d for d in doc.get("datasources") or [] if d.get("uid") == "plantroom-pg"]
    assert ds["type"] == "grafana-postgresql-datasource"
    assert ds["url"] == "postgres:5432"
    assert ds["user"] == READ_ONLY_ROLE
    json_data = ds.get("jsonData") or {}
    assert json_data.get("database") == _environment(services["postgres"])["POSTGRES_DB"]
    assert json_data.get("sslmode") == "disable"
    image_major = int(str(services["postgres"]["image"]).split(":")[1].split(".")[0])
    assert json_data.get("postgresVersion") == image_major * 100, (
        f"postgresVersion {json_data.get('postgresVersion')} does not match "
        f"{services['postgres']['image']}"
    )
    assert (ds.get("secureJsonData") or {}).get("password") == "${GRAFANA_DB_PASSWORD}"


def test_grafana_and_postgres_get_the_same_read_only_role_password(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana = _environment(services["grafana"]).get("GRAFANA_DB_PASSWORD")
    postgres = _environment(services["postgres"]).get("GRAFANA_DB_PASSWORD")
    assert grafana, "grafana has no GRAFANA_DB_PASSWORD to expand in postgres.yaml"
    assert grafana == postgres


def test_grafana_service_sets_the_token_the_datasource_expands(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana_env = _environment(services["grafana"])
    influx_env = _environment(services["influxdb"])
    assert grafana_env.get("INFLUXDB_TOKEN"), "grafana has no INFLUXDB_TOKEN to expand"
    assert grafana_env["INFLUXDB_TOKEN"] == influx_env.get("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN")


def test_grafana_loads_each_language_from_the_mounted_generated_folder(
    services: dict[str, dict[str, Any]],
) -> None:
    mounts = {
        os.path.normpath(source): target for source, target in _bind_mounts(services["grafana"])
    }
    generated_target = mounts.get(os.path.normpath("./dashboards/generated"))
    assert generated_target == "/var/lib/grafana/dashboards", mounts
    assert (
        mounts.get(os.path.normpath("./dashboards/provisioning/dashboards"))
        == "/etc/grafana/provisioning/dashboards"
    ), mounts
    assert (
        mounts.get(os.path.normpath("./dashboards/provisioning/datasources"))
        == "/etc/grafana/provisioning/datasources"
    ), mounts
    providers = [
        p
        for p in _load_yaml(DASHBOARD_PROVIDER_FILE).get("providers") or []
        if p.get("type") == "file"
    ]
    languages = {}
    for p in providers:
        path = str(p.get("options", {}).get("path"))
        parent, _, language = path.rpartition("/")
        assert parent == generated_target, f"{p['name']}: {path} is not under the mount"
        languages[language] = p.get("folder")
    assert set(languages) == LANGUAGES, languages
    assert len(set(languages.values())) == len(languages), f"languages share a folder: {languages}"


def test_every_generated_dashboard_is_under_a_provider_path() -> None:
    """A file written elsewhere under generated/ would never reach Grafana."""
    stray = sorted(
        str(p.relative_to(GENERATED_DIR))
        for p in GENERATED_DIR.rglob("*.json")
        if p.relative_to(GENERATED_DIR).parts[0] not in LANGUAGES
    )
    assert not stray, f"generated dashboards outside {sorted(LANGUAGES)}: {stray}"


# --- first-start scripts under deploy/ ----------------------------------------------------------


def _initdb_dirs(services: dict[str, dict[str, Any]]) -> dict[str, Path]:
    """{service: host folder mounted on /docker-entrypoint-initdb.d}."""
    return {
        name: (ROOT / source).resolve()
        for name, service in services.items()
        for source, target in _bind_mounts(service)
        if target == "/docker-entrypoint-initdb.d"
    }


def test_postgres_and_influxdb_mount_their_first_start_scripts(
    services: dict[str, dict[str, Any]],
) -> None:
    dirs = _initdb_dirs(services)
    assert dirs.get("postgres") == ROLE_SCRIPT.parent, dirs
    assert dirs.get("influxdb") == DBRP_SCRIPT.parent, dirs


def test_first_start_scripts_are_executable_shell_scripts(
    services: dict[str, dict[str, Any]],
) -> None:
    """influxdb:2.7 runs them with `run-parts --regex '.*sh$'`, which skips files that are not
    executable; postgres would source a non-executable one into its own entrypoint."""
    for name, folder in _initdb_dirs(services).items():
        scripts = sorted(folder.glob("*.sh"))
        assert scripts, f"{name}: no *.sh in {folder}"
        for script in scripts:
            mode = script.stat().st_mode
            assert mode & stat.S_IXUSR and mode & stat.S_IXOTH, f"{script} is not executable"
            assert script.read_text(encoding="utf-8").startswith("#!/bin/bash\n"), script


def test_the_role_script_takes_the_password_from_grafana_db_password(
    services: dict[str, dict[str, Any]],
) -> None:
    text = ROLE_SCRIPT.read_text(encoding="utf-8")
    assert '--set=role_password="${GRAFANA_DB_PASSWORD}"' in text
    assert "PASSWORD :'role_password'" in text
    assert f"CREATE ROLE {READ_ONLY_ROLE}" in text
    assert "GRAFANA_DB_PASSWORD" in _environment(services["postgres"])


def test_the_dbrp_script_maps_the_bucket_the_datasource_queries(
    services: dict[str, dict[str, Any]],
) -> None:
    """Checked as text: no InfluxDB 2.x server runs here."""
    text = DBRP_SCRIPT.read_text(encoding="utf-8")
    assert "influx v1 dbrp create" in text
    assert '--bucket-id "${bucket_id}"' in text
    assert 'bucket_id="${DOCKER_INFLUXDB_INIT_BUCKET_ID:?' in text
    assert 'bucket="${DOCKER_INFLUXDB_INIT_BUCKET:?' in text
    assert '--db "${bucket}"' in text and "--rp autogen" in text and "--default" in text
    db_name = _load_yaml(DATASOURCE_FILE)["datasources"][0]["jsonData"]["dbName"]
    assert _environment(services["influxdb"])["DOCKER_INFLUXDB_INIT_BUCKET"] == db_name


def _libpq_env(url: str, **extra: str) -> dict[str, str]:
    """PG* variables for psql from a SQLAlchemy PostgreSQL URL."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PGHOST=parts.hostname or "127.0.0.1", PGPORT=str(parts.port or 5432))
    if parts.password:
        env["PGPASSWORD"] = parts.password
    env.update(
        POSTGRES_USER=parts.username or "postgres", POSTGRES_DB=parts.path.lstrip("/"), **extra
    )
    return env


@pytest.mark.slow
def test_the_role_script_makes_a_read_only_login_and_can_run_again(
    pg_url: str, tmp_path: Path
) -> None:
    """Run against the test server as the image would (psql over libpq, as POSTGRES_USER into
    POSTGRES_DB). Roles belong to the whole server, which other tests share, so the script runs
    with the role renamed to a throw-away name and the role is dropped afterwards."""
    import psycopg

    if shutil.which("psql") is None:
        message = "psql is not installed (apt-get install postgresql-client)"
        if "CI" in os.environ:
            pytest.fail(message)
        pytest.skip(message)
    role = f"{READ_ONLY_ROLE}_t{secrets.token_hex(3)}"
    script = tmp_path / ROLE_SCRIPT.name
    script.write_text(ROLE_SCRIPT.read_text(encoding="utf-8").replace(READ_ONLY_ROLE, role))
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    env = _libpq_env(pg_url)
    as_role = psycopg.conninfo.make_conninfo(
        host=env["PGHOST"],
        port=env["PGPORT"],
        dbname=env["POSTGRES_DB"],
        user=role,
        password="second",
    )
    try:
        verifiers: list[str] = []
        for password in ("first 'quoted' p@ss", "second"):
            result = subprocess.run(
                ["bash", str(script)],
                env=_libpq_env(pg_url, GRAFANA_DB_PASSWORD=password),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert password not in result.stdout + result.stderr
            with psycopg.connect(admin, autocommit=True) as conn:
                stored = conn.execute(
                    "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)
                ).fetchone()
            # The server keeps a SCRAM verifier of the password, a new one for a new password.
            assert stored is not None and str(stored[0]).startswith("SCRAM-SHA-256$"), stored
            assert stored[0] not in verifiers, "the second run did not set the new password"
            verifiers.append(stored[0])
        with psycopg.connect(admin, autocommit=True) as conn:
            row = conn.execute(
                "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolconfig"
                " FROM pg_roles WHERE rolname = %s",
                (role,),
            ).fetchone()
            assert row is not None, f"{role} was not created"
            can_login, is_super, creates_db, creates_role, config = row
            assert (can_login, is_super, creates_db, creates_role) == (True, False, False, False)
            assert "default_transaction_read_only=on" in config
            conn.execute("CREATE TABLE not_a_reporting_view (x int)")
        with psycopg.connect(as_role, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM not_a_reporting_view")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("CREATE TEMPORARY TABLE scratch (x int)")
        empty = subprocess.run(
            ["bash", str(script)],
            env=_libpq_env(pg_url, GRAFANA_DB_PASSWORD=""),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert empty.returncode != 0 and "GRAFANA_DB_PASSWORD" in empty.stderr
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            if conn.execute("SELECT FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'DROP OWNED BY "{role}"')  # its CONNECT grant, so it can go
                conn.execute(f'DROP ROLE "{role}"')
