"""`plantroom users` and `plantroom tokens`, run as real processes against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from core import audit
from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import bearer, make_user, sign_in

pytestmark = pytest.mark.slow  # each test runs `plantroom` as processes


def _plantroom(
    db: Database, settings: Settings, cwd: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PLANTROOM_DATA_DIR": str(settings.data_dir),
        "PLANTROOM_DATABASE_URL": db.url,
    }
    return subprocess.run(
        [sys.executable, "-m", "plantroom.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_users_create_list_disable_round_trip(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    created = _plantroom(
        db,
        settings,
        tmp_path,
        "users",
        "create",
        "chen",
        "--role",
        "contractor",
        "--org",
        "Evergreen",
        "--display-name",
        "Chen Jing",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    assert created.returncode == 0, created.stderr
    duplicate = _plantroom(
        db, settings, tmp_path, "users", "create", "chen", "--role", "technician",
        "--password-stdin", stdin="another-password\n",
    )  # fmt: skip
    listed = _plantroom(db, settings, tmp_path, "users", "list", "--json")
    login = sign_in(client, "chen", "a-long-password", follow_redirects=False)
    disabled = _plantroom(db, settings, tmp_path, "users", "disable", "chen")
    unknown = _plantroom(db, settings, tmp_path, "users", "disable", "nobody")
    relisted = _plantroom(db, settings, tmp_path, "users", "list", "--json")

    assert duplicate.returncode == 2
    assert duplicate.stderr.strip().splitlines() == ["plantroom users: user 'chen' already exists"]
    [user] = json.loads(listed.stdout)
    assert (user["username"], user["role"], user["organisation"], user["display_name"]) == (
        "chen",
        "contractor",
        "Evergreen",
        "Chen Jing",
    )
    assert user["active"] is True
    assert login.status_code == 303  # the password read from stdin is the one stored
    assert disabled.returncode == 0, disabled.stderr
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == ["plantroom users: no user 'nobody'"]
    assert json.loads(relisted.stdout)[0]["active"] is False
    with db.session() as s:
        entries = audit.entries(s, entity="user", entity_id=user["id"])
    assert [e.action for e in entries] == ["create", "disable"]
    assert all(e.actor.startswith("cli:") for e in entries)


def test_tokens_create_list_revoke_round_trip(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    user = _plantroom(
        db, settings, tmp_path, "users", "create", "bridge", "--role", "engineer",
        "--password-stdin", stdin="bridge-password\n",
    )  # fmt: skip
    assert user.returncode == 0, user.stderr

    made = _plantroom(
        db, settings, tmp_path, "tokens", "create", "bridge", "--name", "BMS",
        "--scopes", "read", "--expires-days", "30",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["scopes"]) == ("bridge", ["read"])

    listed = _plantroom(db, settings, tmp_path, "tokens", "list", "bridge", "--json")
    [row] = json.loads(listed.stdout)
    assert token not in listed.stdout
    assert (row["name"], row["scopes"], row["state"]) == ("BMS", "read", "active")
    assert token.startswith(row["prefix"])

    too_wide = _plantroom(
        db, settings, tmp_path, "tokens", "create", "bridge", "--name", "x", "--scopes", "admin"
    )
    revoked = _plantroom(db, settings, tmp_path, "tokens", "revoke", row["prefix"])

    assert too_wide.returncode == 2 and "admin" in too_wide.stderr
    assert revoked.returncode == 0, revoked.stderr
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_users_passwd_sets_the_password_and_signs_the_user_out(
    client: TestClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    make_user(db, "zhou", Role.technician, password="first-password-1")
    tablet = TestClient(client.app, follow_redirects=False)
    assert sign_in(tablet, "zhou", "first-password-1").status_code == 303

    done = _plantroom(
        db, settings, tmp_path, "users", "passwd", "zhou", "--password-stdin",
        stdin="second-password-2\n",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "1 session(s) signed out" in done.stdout
    assert tablet.get("/ui/").status_code == 303
    assert sign_in(tablet, "zhou", "first-password-1").status_code == 401
    assert sign_in(tablet, "zhou", "second-password-2").status_code == 303
    short = _plantroom(
        db, settings, tmp_path, "users", "passwd", "zhou", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 2
