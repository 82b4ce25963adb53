"""The environment run.py builds holds one genuine urllib3, and grafana-client still works in it.

grafana-client runs on niquests, and niquests on urllib3-future. That fork's wheel installs itself
over the `urllib3` package, which broke every request schemathesis sent through requests
('TrafficPolice' object has no attribute 'keys'). run.py builds the fork from source with
URLLIB3_NO_OVERRIDE=1 instead, so that it lives under its own name, `urllib3_future`.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
from pathlib import Path

import schemathesis
import urllib3
from grafana_client import GrafanaApi

from tests.notify_servers import Receiver


def _ships_into_urllib3(dist: importlib.metadata.Distribution) -> bool:
    return any(f.parts[0] == "urllib3" for f in dist.files or ())


def _record_hash(path: Path) -> str:
    """A file's sha256 as pip writes it into RECORD."""
    digest = hashlib.sha256(path.read_bytes()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_import_urllib3_loads_the_files_the_urllib3_distribution_installed() -> None:
    """`import urllib3` runs urllib3's own files, unchanged; no other package ships into them."""
    dist = importlib.metadata.distribution("urllib3")
    assert urllib3.__version__ == dist.version
    recorded = {
        Path(dist.locate_file(f)).resolve(): f.hash.value
        for f in dist.files or ()
        if f.parts[0] == "urllib3" and f.hash
    }
    assert Path(urllib3.__file__).resolve() in recorded
    changed = [str(path) for path, value in recorded.items() if _record_hash(path) != value]
    assert changed == []
    others = [
        d.metadata["Name"]
        for d in importlib.metadata.distributions()
        if d.metadata["Name"].lower() != "urllib3" and _ships_into_urllib3(d)
    ]
    assert others == []


def test_schemathesis_sends_a_case_through_requests(receiver: Receiver) -> None:
    """The call that failed with urllib3-future in urllib3's place reaches a local server."""
    schema = schemathesis.openapi.from_dict(
        {
            "openapi": "3.0.3",
            "info": {"title": "receiver", "version": "1"},
            "paths": {
                "/hook": {
                    "post": {
                        "requestBody": {
                            "required": True,
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "responses": {"200": {"description": "recorded"}},
                    }
                }
            },
        }
    )
    case = schema["/hook"]["POST"].Case(body={"reading": 21.5})
    response = case.call(base_url=receiver.url)
    assert response.status_code == 200
    assert receiver.bodies("/hook") == [{"reading": 21.5}]


def test_grafana_client_posts_a_dashboard(receiver: Receiver) -> None:
    """grafana-client sends a dashboard over niquests and its own urllib3-future.

    The receiver stands in for Grafana, which does not run here; it answers 204, having no
    dashboard status to return.
    """
    receiver.statuses = [204]
    api = GrafanaApi.from_url(receiver.url, credential="push-token")
    dashboard = {"dashboard": {"uid": "plantroom-energy", "title": "Energy"}, "overwrite": True}
    assert api.dashboard.update_dashboard(dashboard) is None
    pool = api.client.s.get_adapter(receiver.url).poolmanager
    assert type(pool).__module__.startswith("urllib3_future.")
    [(path, headers, body)] = receiver.posts
    assert (path, body) == ("/api/dashboards/db", dashboard)
    assert headers["Authorization"] == "Bearer push-token"
