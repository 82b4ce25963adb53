"""Settings from PLANTROOM_ variables: one that nothing reads (a misspelt name) is warned about by
name at start, with the setting it most looks like."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from config import settings as settings_module
from config.settings import Settings, unread_variables, warn_unread_variables
from config.site import SITES_DIR
from plantroom.cli import main


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test warns afresh, and reads no .env but its own (the working folder's)."""
    monkeypatch.setattr(settings_module, "_warned", set())
    monkeypatch.chdir(tmp_path)


def demo() -> Settings:
    return Settings(site=SITES_DIR / "demo", _env_file=None)  # type: ignore[call-arg]


def test_a_misspelt_variable_is_named_with_the_setting_it_looks_like(
    caplog: pytest.LogCaptureFixture,
) -> None:
    environ = {"PLANTROOM_DATA_DIRR": "/srv/plantroom", "PLANTROOM_DATA_DIR": "/srv"}
    with caplog.at_level(logging.WARNING, logger="config.settings"):
        assert warn_unread_variables(demo(), environ) == ["PLANTROOM_DATA_DIRR"]
    assert (
        "PLANTROOM_DATA_DIRR is set (environment) but no setting reads it; did you mean "
        "PLANTROOM_DATA_DIR? It is ignored" in caplog.text
    )


def test_a_name_like_no_setting_is_named_without_a_guess(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="config.settings"):
        warn_unread_variables(demo(), {"PLANTROOM_COLOUR": "blue"})
    assert "PLANTROOM_COLOUR is set (environment) but no setting reads it. It is ignored" in (
        caplog.text
    )


def test_settings_site_substitutions_other_tools_and_other_prefixes_are_not_named(
    tmp_path: Path,
) -> None:
    environ = {
        "PLANTROOM_ADMIN_TOKEN": "t",  # a setting
        "plantroom_site": "x",  # settings' names are not case-sensitive
        "PLANTROOM_SIM_HOST": "simulator",  # the demo site.yaml's ${PLANTROOM_SIM_HOST:-...}
        "PLANTROOM_HTTP_PORT": "8081",  # docker-compose.yml's
        "PLANTROOM_TEST_DATABASE_URL": "postgresql://",  # the test suite's
        "POSTGRES_PASSWORD": "pw",  # not ours
    }
    assert unread_variables(demo(), environ) == {}
    # A site that does not substitute it: then nothing reads it.
    (tmp_path / "site.yaml").write_text("site: {name: Elsewhere}\n")
    other = Settings(site=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert unread_variables(other, {"PLANTROOM_SIM_HOST": "s"}) == {
        "PLANTROOM_SIM_HOST": "environment"
    }


def test_an_unread_name_in_the_env_file_is_named_with_the_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "PLANTROOM_INFLUX_TOKN=secret\nPLANTROOM_INFLUX_TOKEN=secret\nINFLUXDB_TOKEN=x\n"
    )
    assert unread_variables(demo(), {}) == {"PLANTROOM_INFLUX_TOKN": ".env"}


def test_each_name_is_warned_about_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    environ = {"PLANTROOM_SECRET": "s"}
    with caplog.at_level(logging.WARNING, logger="config.settings"):
        assert warn_unread_variables(demo(), environ) == ["PLANTROOM_SECRET"]
        assert warn_unread_variables(demo(), environ) == []
    assert caplog.text.count("PLANTROOM_SECRET is set") == 1


def test_the_cli_names_a_misspelt_variable_when_it_starts(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PLANTROOM_STIE", "/srv/site")
    with caplog.at_level(logging.WARNING, logger="config.settings"):
        assert main(["rules", "list"]) == 0
    assert "PLANTROOM_STIE is set (environment) but no setting reads it; did you mean " in (
        caplog.text
    )
    assert capsys.readouterr().out  # the command itself ran, on the default site
