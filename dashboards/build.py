"""Dashboards as code: every Plantroom board, in English and in Simplified Chinese, built with
grafana-foundation-sdk from the site configuration.

``build_all`` returns the JSON Grafana stores, ``write`` puts it in files (what
``plantroom dashboards build`` runs, into ``dashboards/generated/<lang>/<board>.json``, which
docker-compose provisions and tests compare with a fresh build).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from config.site import SiteConfig
from dashboards.common import LANGS, Context, DataSources

#: The boards, each a module dashboards.boards.<name> with ``build(ctx) -> Dashboard``.
BOARDS: tuple[str, ...] = ("wall", "energy", "equipment", "ageing", "spend", "sla")
#: Where `plantroom dashboards build` writes by default (docker-compose mounts it).
GENERATED = Path(__file__).resolve().parent / "generated"
DEFAULT_APP_URL = "http://localhost:8080"
#: The data sources docker-compose provisions.
PROVISIONED = DataSources()

__all__ = ["BOARDS", "GENERATED", "DataSources", "build_all", "build_board", "render", "write"]


def build_board(ctx: Context, board: str) -> dict[str, Any]:
    """One board in ctx's language, as Grafana's dashboard JSON."""
    module = importlib.import_module(f"dashboards.boards.{board}")
    built = module.build(ctx).build()
    doc: dict[str, Any] = json.loads(json.dumps(built, cls=JSONEncoder))
    for variable in doc.get("templating", {}).get("list", []):
        # The SDK writes an interval variable's auto settings into every variable; Grafana's
        # published VariableModel (and what Grafana itself saves) has them on intervals only.
        if variable.get("type") != "interval":
            for key in ("auto", "auto_count", "auto_min"):
                variable.pop(key, None)
    return doc


def build_all(
    site: SiteConfig,
    *,
    datasources: DataSources = PROVISIONED,
    uid_prefix: str = "plantroom",
    app_url: str = DEFAULT_APP_URL,
) -> dict[str, dict[str, Any]]:
    """Every board in every language: {"en/wall.json": dashboard JSON, ...}."""
    out: dict[str, dict[str, Any]] = {}
    for lang in LANGS:
        ctx = Context(
            site=site, lang=lang, datasources=datasources, uid_prefix=uid_prefix, app_url=app_url
        )
        for board in BOARDS:
            out[f"{lang}/{board}.json"] = build_board(ctx, board)
    return out


def render(doc: dict[str, Any]) -> str:
    """A dashboard as its file's text: sorted keys, two-space indent, UTF-8, final newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(
    site: SiteConfig,
    out_dir: Path = GENERATED,
    *,
    datasources: DataSources = PROVISIONED,
    uid_prefix: str = "plantroom",
    app_url: str = DEFAULT_APP_URL,
) -> list[Path]:
    """Build every board into out_dir/<lang>/<board>.json; JSON files left there from boards that
    no longer exist are removed. Returns the files written."""
    docs = build_all(site, datasources=datasources, uid_prefix=uid_prefix, app_url=app_url)
    written: list[Path] = []
    for rel, doc in docs.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = render(doc)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for lang in LANGS:
        for stale in sorted((out_dir / lang).glob("*.json")):
            if stale not in written:
                stale.unlink()
    return written
