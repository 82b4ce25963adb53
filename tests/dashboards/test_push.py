"""`plantroom dashboards push` against a stand-in for Grafana's HTTP API (Grafana cannot run
here; tests/dashboards/grafana_standin.py follows Grafana's documented routes and payloads)."""

from __future__ import annotations

import http.server
import io
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.settings import Settings
from config.site import SiteConfig
from dashboards.build import build_all
from dashboards.push import (
    FOLDER_UID,
    INFLUX_UID,
    PG_UID,
    PushDataSources,
    push,
    push_command,
)
from tests.dashboards.grafana_standin import StandinGrafana, Token, serve_grafana

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "glsa_admin_" + "a" * 24
EDITOR = "glsa_editor_" + "e" * 24
VIEWER = "glsa_viewer_" + "v" * 24
SOURCES = PushDataSources(
    influx_url="http://influxdb:8086",
    influx_database="plantroom",
    influx_token="influx-secret",
    pg_host="postgres:5432",
    pg_password="pg-secret",
)
TITLES = {
    "wall": ("Plantroom · Wall", "Plantroom · 值班墙"),
    "energy": ("Plantroom · Energy", "Plantroom · 能耗"),
}


@pytest.fixture
def grafana() -> Iterator[StandinGrafana]:
    """The stand-in, with an Admin service account (the push's), an Editor (a user who edits
    dashboards in the UI) and a Viewer."""
    tokens = {
        ADMIN: Token("Admin", "sa-plantroom-push"),
        EDITOR: Token("Editor", "alice"),
        VIEWER: Token("Viewer", "bob"),
    }
    with serve_grafana(tokens) as g:
        yield g


def boards(note: str = "") -> dict[str, dict[str, Any]]:
    """Four small dashboards shaped like build_all's, for the pushed data sources."""
    out = {}
    for lang, suffix, i in (("en", "en", 0), ("zh-CN", "zh", 1)):
        for board, titles in TITLES.items():
            out[f"{lang}/{board}.json"] = {
                "uid": f"plantroom-push-{board}-{suffix}",
                "title": titles[i],
                "description": note,
                "schemaVersion": 41,
                "tags": ["plantroom"],
                "panels": [
                    {
                        "id": 1,
                        "type": "stat",
                        "title": "Alerts firing",
                        "datasource": {"type": "influxdb", "uid": INFLUX_UID},
                        "targets": [
                            {
                                "refId": "A",
                                "datasource": {"type": "influxdb", "uid": INFLUX_UID},
                                "query": 'SELECT last("value") FROM "readings" WHERE $timeFilter',
                                "rawQuery": True,
                                "resultFormat": "time_series",
                            }
                        ],
                    }
                ],
            }
    return out


def run(
    grafana_url: str,
    docs: dict[str, dict[str, Any]],
    *,
    token: str | None = ADMIN,
    force: bool = False,
    folder: str = "Plantroom",
    sources: PushDataSources = SOURCES,
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = push(
        docs,
        url=grafana_url,
        folder=folder,
        force=force,
        token=token,
        datasources=sources,
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


def line_of(out: str, uid: str) -> str:
    [line] = [line for line in out.splitlines() if f"({uid})" in line]
    return line


def test_first_push_creates_the_folder_the_data_sources_and_the_dashboards(
    grafana: StandinGrafana,
) -> None:
    code, out, err = run(grafana.url, boards())
    assert (code, err) == (0, "")
    assert grafana.folders[FOLDER_UID]["title"] == "Plantroom"
    influx, pg = grafana.datasources[INFLUX_UID], grafana.datasources[PG_UID]
    assert (influx["type"], influx["url"], influx["jsonData"]["dbName"]) == (
        "influxdb",
        "http://influxdb:8086",
        "plantroom",
    )
    assert grafana.secrets[INFLUX_UID] == {"httpHeaderValue1": "Token influx-secret"}
    assert (pg["type"], pg["url"], pg["user"], pg["jsonData"]["database"]) == (
        "grafana-postgresql-datasource",
        "postgres:5432",
        "plantroom_grafana",
        "plantroom",
    )
    assert grafana.secrets[PG_UID] == {"password": "pg-secret"}
    in_folder = {uid for uid, d in grafana.dashboards.items() if d["folderUid"] == FOLDER_UID}
    assert in_folder == {doc["uid"] for doc in boards().values()}
    for doc in boards().values():
        assert line_of(out, doc["uid"]).split()[:2] == ["dashboard", "created"]
        assert doc["title"] in line_of(out, doc["uid"])
    assert "4 created, 0 updated, 0 unchanged, 0 changed in Grafana" in out


def test_a_second_push_of_the_same_dashboards_changes_nothing(grafana: StandinGrafana) -> None:
    run(grafana.url, boards())
    writes = len([r for r in grafana.requests if r[0] in ("POST", "PUT")])
    code, out, err = run(grafana.url, boards())
    assert (code, err) == (0, "")
    assert "0 created, 0 updated, 4 unchanged, 0 changed in Grafana" in out
    assert line_of(out, FOLDER_UID).split()[:2] == ["folder", "unchanged"]
    assert line_of(out, INFLUX_UID).split()[:2] == ["datasource", "unchanged"]
    assert len([r for r in grafana.requests if r[0] in ("POST", "PUT")]) == writes
    assert all(len(v) == 1 for v in grafana.versions.values())


def test_a_rebuilt_dashboard_that_differs_is_updated_without_force(
    grafana: StandinGrafana,
) -> None:
    run(grafana.url, boards())
    code, out, _ = run(grafana.url, boards(note="rebuilt"))
    assert code == 0
    assert "0 created, 4 updated, 0 unchanged" in out
    assert grafana.dashboard("plantroom-push-wall-en")["description"] == "rebuilt"
    assert grafana.dashboard("plantroom-push-wall-en")["version"] == 2


def test_a_dashboard_edited_in_grafana_is_named_and_left_alone_while_the_others_are_pushed(
    grafana: StandinGrafana,
) -> None:
    run(grafana.url, boards())
    grafana.save_as_user(
        "plantroom-push-wall-en",
        lambda d: d.update(title="Plantroom · Wall (night shift)"),
        token=EDITOR,
    )
    code, out, err = run(grafana.url, boards(note="rebuilt"))
    assert code == 1
    assert "Plantroom · Wall (plantroom-push-wall-en)" in err
    assert "--force" in err
    line = line_of(out, "plantroom-push-wall-en")
    assert line.split()[:2] == ["dashboard", "conflict"]
    assert "version 2 saved by alice" in line
    assert "now titled 'Plantroom · Wall (night shift)'" in line
    assert grafana.dashboard("plantroom-push-wall-en")["title"] == "Plantroom · Wall (night shift)"
    assert grafana.dashboard("plantroom-push-wall-en")["description"] == ""
    for uid in ("plantroom-push-energy-en", "plantroom-push-wall-zh", "plantroom-push-energy-zh"):
        assert grafana.dashboard(uid)["description"] == "rebuilt"
    assert "0 created, 3 updated, 0 unchanged, 1 changed in Grafana" in out


def test_the_edited_dashboard_stays_a_conflict_on_every_push_until_forced(
    grafana: StandinGrafana,
) -> None:
    run(grafana.url, boards())
    grafana.save_as_user(
        "plantroom-push-energy-zh", lambda d: d.update(tags=["mine"]), token=EDITOR
    )
    assert run(grafana.url, boards())[0] == 1
    code, out, _ = run(grafana.url, boards())
    assert code == 1
    assert line_of(out, "plantroom-push-energy-zh").split()[:2] == ["dashboard", "conflict"]


def test_force_overwrites_a_dashboard_edited_in_grafana(grafana: StandinGrafana) -> None:
    run(grafana.url, boards())
    grafana.save_as_user("plantroom-push-wall-en", lambda d: d.update(tags=["mine"]), token=EDITOR)
    code, out, err = run(grafana.url, boards(), force=True)
    assert (code, err) == (0, "")
    assert line_of(out, "plantroom-push-wall-en").split()[:2] == ["dashboard", "overwritten"]
    assert grafana.dashboard("plantroom-push-wall-en")["tags"] == ["plantroom"]
    code, out, _ = run(grafana.url, boards())
    assert code == 0
    assert "4 unchanged" in out


def test_a_dashboard_saved_in_grafana_while_the_push_runs_is_left_alone(
    grafana: StandinGrafana,
) -> None:
    run(grafana.url, boards())
    uid = "plantroom-push-wall-en"
    save = grafana._save_dashboard  # saves the user's change just before the push's own save

    def racing(token: Token, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if token.role == "Admin" and body["dashboard"]["uid"] == uid:
            grafana._save_dashboard = save  # type: ignore[method-assign]
            mine = {**grafana.dashboards[uid]["dashboard"], "tags": ["mine"]}
            user = {"dashboard": mine, "folderUid": FOLDER_UID, "message": "", "overwrite": False}
            save(Token("Editor", "alice"), {}, user)
        return save(token, query, body)

    grafana._save_dashboard = racing  # type: ignore[method-assign]
    code, out, err = run(grafana.url, boards(note="rebuilt"))
    assert code == 1
    assert "saved in Grafana while the push ran" in line_of(out, uid)
    assert grafana.dashboard(uid)["tags"] == ["mine"]
    assert "Plantroom · Wall (plantroom-push-wall-en)" in err


def test_the_standin_refuses_a_stale_save_as_grafana_does(grafana: StandinGrafana) -> None:
    headers = {"Authorization": f"Bearer {EDITOR}"}
    dash = {"uid": "x", "title": "X"}
    first = httpx.post(
        f"{grafana.url}/api/dashboards/db", json={"dashboard": dash}, headers=headers
    )
    assert first.json()["version"] == 1
    stale = {"dashboard": {**dash, "version": 0}, "overwrite": False}
    refused = httpx.post(f"{grafana.url}/api/dashboards/db", json=stale, headers=headers)
    assert (refused.status_code, refused.json()["status"]) == (412, "version-mismatch")
    forced = httpx.post(
        f"{grafana.url}/api/dashboards/db", json={**stale, "overwrite": True}, headers=headers
    )
    assert forced.json()["version"] == 2
    versions = httpx.get(f"{grafana.url}/api/dashboards/uid/x/versions", headers=headers).json()
    assert [v["version"] for v in versions["versions"]] == [2, 1]


def test_a_dashboard_moved_out_of_the_push_folder_is_a_conflict(grafana: StandinGrafana) -> None:
    run(grafana.url, boards())
    headers = {"Authorization": f"Bearer {EDITOR}"}
    httpx.post(f"{grafana.url}/api/folders", json={"uid": "ops", "title": "Ops"}, headers=headers)
    grafana.save_as_user("plantroom-push-wall-zh", lambda d: None, token=EDITOR, folder_uid="ops")
    code, out, _ = run(grafana.url, boards())
    assert code == 1
    line = line_of(out, "plantroom-push-wall-zh")
    assert line.split()[:2] == ["dashboard", "conflict"]
    assert grafana.dashboards["plantroom-push-wall-zh"]["folderUid"] == "ops"


def test_a_hand_made_dashboard_with_a_pushed_title_is_named_and_never_taken_over(
    grafana: StandinGrafana,
) -> None:
    run(grafana.url, boards())
    title = grafana.dashboard("plantroom-push-wall-en")["title"]
    del grafana.dashboards["plantroom-push-wall-en"]  # gone; a colleague's board takes its title
    made = httpx.post(
        f"{grafana.url}/api/dashboards/db",
        json={"dashboard": {"uid": "my-wall", "title": title}, "folderUid": "plantroom-push"},
        headers={"Authorization": f"Bearer {EDITOR}"},
    )
    assert made.status_code == 200, made.text
    for force in (False, True):
        code, out, err = run(grafana.url, boards(), force=force)
        assert code == 1
        assert line_of(out, "plantroom-push-wall-en").split()[:2] == ["dashboard", "conflict"]
        assert "another dashboard in the folder has this title" in out + err
        assert grafana.dashboard("my-wall")["title"] == title  # the colleague's board is intact
        assert "plantroom-push-wall-en" not in grafana.dashboards


def test_another_folder_name_renames_the_push_folder(grafana: StandinGrafana) -> None:
    run(grafana.url, boards())
    code, out, _ = run(grafana.url, boards(), folder="Walls")
    assert code == 0
    assert line_of(out, FOLDER_UID).split()[:2] == ["folder", "updated"]
    assert [f["title"] for f in grafana.folders.values()] == ["Walls"]
    assert "4 unchanged" in out


def test_changed_data_source_settings_are_pushed_and_passwords_kept(
    grafana: StandinGrafana,
) -> None:
    run(grafana.url, boards())
    moved = PushDataSources(
        influx_url="http://influx.example:8086",
        influx_database="plantroom",
        influx_token="influx-secret",
        pg_host="postgres:5432",
    )
    code, out, err = run(grafana.url, boards(), sources=moved)
    assert code == 0
    assert "PLANTROOM_GRAFANA_PG_PASSWORD is not set" in err
    assert line_of(out, INFLUX_UID).split()[:2] == ["datasource", "updated"]
    assert grafana.datasources[INFLUX_UID]["url"] == "http://influx.example:8086"
    assert line_of(out, PG_UID).split()[:2] == ["datasource", "unchanged"]
    assert grafana.secrets[PG_UID] == {"password": "pg-secret"}


def test_force_sends_the_data_source_passwords_again(grafana: StandinGrafana) -> None:
    run(grafana.url, boards())
    grafana.secrets[PG_UID]["password"] = "changed-in-grafana"
    assert run(grafana.url, boards())[0] == 0
    assert grafana.secrets[PG_UID] == {"password": "changed-in-grafana"}
    assert run(grafana.url, boards(), force=True)[0] == 0
    assert grafana.secrets[PG_UID] == {"password": "pg-secret"}


def test_without_grafana_token_the_push_stops_with_2_before_any_request(
    grafana: StandinGrafana,
) -> None:
    code, _, err = run(grafana.url, boards(), token=None)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "GRAFANA_TOKEN is not set" in err
    assert grafana.requests == []


def test_a_token_grafana_refuses_stops_the_push_with_2(grafana: StandinGrafana) -> None:
    code, _, err = run(grafana.url, boards(), token="glsa_revoked_" + "x" * 24)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "refused the token in GRAFANA_TOKEN (401 Unauthorized)" in err
    assert grafana.dashboards == {} and grafana.folders == {}


@pytest.mark.parametrize(
    ("token", "refused"), [(VIEWER, "create folders"), (EDITOR, "read data sources")]
)
def test_a_token_without_the_admin_role_stops_the_push_with_2(
    grafana: StandinGrafana, token: str, refused: str
) -> None:
    code, _, err = run(grafana.url, boards(), token=token)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert f"may not {refused} (403 Access denied" in err
    assert "Admin role" in err
    assert grafana.dashboards == {}


def test_an_unreachable_grafana_stops_the_push_with_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, not listening: refused
        code, _, err = run(url, boards())
    assert code == 2
    assert len(err.splitlines()) == 1
    assert f"cannot reach Grafana at {url}" in err


def test_a_server_that_is_not_grafana_stops_the_push_with_2_and_a_reason() -> None:
    """A URL without Grafana's sub-path, or another web server: its /api/health is a 404."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>Not Found</html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code, _, err = run(f"http://127.0.0.1:{server.server_address[1]}", boards())
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "does not answer like Grafana's HTTP API (/api/health: 404" in err


def test_an_address_that_is_not_http_stops_the_push_with_2() -> None:
    code, _, err = run("grafana.example:3000", boards())
    assert code == 2
    assert "is not an http:// or https:// address" in err


def test_an_unknown_sslmode_stops_the_push_with_2_before_any_request(
    grafana: StandinGrafana,
) -> None:
    sources = PushDataSources.from_environment(
        Settings(_env_file=None),  # type: ignore[call-arg]
        {"PLANTROOM_GRAFANA_PG_SSLMODE": "prefer"},
    )
    code, _, err = run(grafana.url, boards(), sources=sources)
    assert code == 2
    assert "PLANTROOM_GRAFANA_PG_SSLMODE='prefer' is not one of disable, require" in err
    assert grafana.requests == []


def test_data_sources_default_to_plantroom_settings_and_follow_the_environment() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://plantroom:pw@db.internal:5433/works",
        influx_v2_url="http://influx.internal:8086",
        influx_bucket="telemetry",
        influx_token="tok",
        _env_file=None,  # type: ignore[call-arg]
    )
    defaults = PushDataSources.from_environment(settings, {"GRAFANA_DB_PASSWORD": "ro-pw"})
    assert defaults == PushDataSources(
        influx_url="http://influx.internal:8086",
        influx_database="telemetry",
        influx_token="tok",
        pg_host="db.internal:5433",
        pg_database="works",
        pg_user="plantroom_grafana",
        pg_password="ro-pw",
    )
    env = {
        "PLANTROOM_GRAFANA_INFLUX_URL": "http://influxdb:8086",
        "PLANTROOM_GRAFANA_PG_HOST": "postgres:5432",
        "PLANTROOM_GRAFANA_PG_PASSWORD": "other",
        "PLANTROOM_GRAFANA_PG_SSLMODE": "require",
    }
    chosen = PushDataSources.from_environment(settings, env)
    assert (chosen.influx_url, chosen.pg_host, chosen.pg_password, chosen.pg_sslmode) == (
        "http://influxdb:8086",
        "postgres:5432",
        "other",
        "require",
    )


def test_pushed_uids_never_equal_the_provisioned_ones(
    grafana: StandinGrafana, demo_site: SiteConfig
) -> None:
    provisioned = build_all(demo_site)
    out, err = io.StringIO(), io.StringIO()
    code = push_command(
        demo_site,
        url=grafana.url,
        folder="Plantroom",
        force=False,
        token=ADMIN,
        datasources=SOURCES,
        app_url="http://plantroom.example",
        out=out,
        err=err,
    )
    assert (code, err.getvalue()) == (0, "")
    assert len(grafana.dashboards) == len(provisioned) == 12
    assert set(grafana.dashboards).isdisjoint(d["uid"] for d in provisioned.values())
    assert all(uid.startswith("plantroom-push-") for uid in grafana.dashboards)
    assert set(grafana.datasources) == {"plantroom-push-influx", "plantroom-push-pg"}
    pushed = json.dumps([grafana.dashboard(uid) for uid in grafana.dashboards])
    assert '"plantroom-influx"' not in pushed and '"plantroom-pg"' not in pushed


def test_the_push_command_takes_no_token_on_its_command_line(
    grafana: StandinGrafana, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from plantroom.cli import build_parser, main

    with pytest.raises(SystemExit):
        build_parser().parse_args(["dashboards", "push", "--url", grafana.url, "--token", ADMIN])
    assert "unrecognized arguments: --token" in capsys.readouterr().err
    monkeypatch.setenv("GRAFANA_TOKEN", ADMIN)
    assert main(["dashboards", "push", "--url", grafana.url]) == 0
    assert len(grafana.dashboards) == 12
    printed = capsys.readouterr()
    assert ADMIN not in printed.out + printed.err


def test_importing_the_push_module_keeps_the_genuine_urllib3() -> None:
    code = (
        "import importlib.metadata, pathlib, dashboards.push, urllib3, niquests;"
        "dist = importlib.metadata.distribution('urllib3');"
        "mine = pathlib.Path(dist.locate_file('urllib3/__init__.py')).resolve();"
        "pool = niquests.Session().get_adapter('http://x').poolmanager;"
        "print(pathlib.Path(urllib3.__file__).resolve() == mine,"
        " urllib3.__version__ == dist.version, type(pool).__module__.split('.')[0])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["True", "True", "urllib3_future"]
