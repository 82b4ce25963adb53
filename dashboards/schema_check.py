"""Offline validation of dashboard JSON against Grafana's own published types.

The types are `@grafana/schema` at the version docker-compose runs (dashboards/schema/package.json
pins it; `npm ci` installs it), and the judge is `tsc --noEmit`. Each dashboard becomes one
TypeScript module that assigns its JSON, as a literal, to a declared type, so tsc checks literal
types, enum values and excess (misspelt or unknown) properties.

What is checked, all through `Json<T>` (dashboards/schema/src/json.ts: a string enum becomes the
union of its strings, as JSON spells it):
- the whole dashboard against `Dashboard` (the veneer type Grafana's frontend uses): time,
  templating variables, annotations, links, panels and rows, `gridPos`, `fieldConfig.defaults`
  (unit, colour modes, thresholds, value mappings), `transformations[].id`;
- per panel, by its `type`, `options` against the plugin's `Options` and
  `fieldConfig.defaults.custom` against its `FieldConfig` (raw/composable/<plugin>/panelcfg); a
  plugin that publishes no `FieldConfig` (stat, gauge, bargauge, text, ...) takes no `custom` keys;
- per override property: `custom.<key>` against the plugin's `FieldConfig`, any other id against
  the field config (`unit`, `color`, `thresholds`, `mappings`, ...), each as one optional key;
- per target: `DataQuery` (`refId` required, `hide`, `queryType`, `datasource` typed).

What the published types do not allow checking, and so is not checked:
- a target's query fields: `Panel.targets` is `Record<string, unknown>[]` and @grafana/schema
  11.6.0 publishes no InfluxDB or PostgreSQL query type; extra keys pass;
- `transformations[].options`, matcher options, field `links` (typed `unknown`);
- a panel type with no published types is reported as a problem, not skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
GENERATED_DIR = Path(__file__).resolve().parent / "generated"
_STAMP = ".plantroom-lock.sha256"
_COMPOSABLE = "@grafana/schema/dist/esm/raw/composable"

#: Panel plugin id -> (its module under raw/composable, whether it publishes a FieldConfig).
PANEL_TYPES: dict[str, tuple[str, bool]] = {
    "annolist": ("annotationslist/panelcfg/x/AnnotationsListPanelCfg_types.gen", False),
    "barchart": ("barchart/panelcfg/x/BarChartPanelCfg_types.gen", True),
    "bargauge": ("bargauge/panelcfg/x/BarGaugePanelCfg_types.gen", False),
    "candlestick": ("candlestick/panelcfg/x/CandlestickPanelCfg_types.gen", True),
    "canvas": ("canvas/panelcfg/x/CanvasPanelCfg_types.gen", False),
    "dashlist": ("dashboardlist/panelcfg/x/DashboardListPanelCfg_types.gen", False),
    "datagrid": ("datagrid/panelcfg/x/DatagridPanelCfg_types.gen", False),
    "debug": ("debug/panelcfg/x/DebugPanelCfg_types.gen", False),
    "gauge": ("gauge/panelcfg/x/GaugePanelCfg_types.gen", False),
    "geomap": ("geomap/panelcfg/x/GeomapPanelCfg_types.gen", False),
    "heatmap": ("heatmap/panelcfg/x/HeatmapPanelCfg_types.gen", True),
    "histogram": ("histogram/panelcfg/x/HistogramPanelCfg_types.gen", True),
    "logs": ("logs/panelcfg/x/LogsPanelCfg_types.gen", False),
    "news": ("news/panelcfg/x/NewsPanelCfg_types.gen", False),
    "nodeGraph": ("nodegraph/panelcfg/x/NodeGraphPanelCfg_types.gen", False),
    "piechart": ("piechart/panelcfg/x/PieChartPanelCfg_types.gen", True),
    "stat": ("stat/panelcfg/x/StatPanelCfg_types.gen", False),
    "state-timeline": ("statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen", True),
    "status-history": ("statushistory/panelcfg/x/StatusHistoryPanelCfg_types.gen", True),
    "table": ("table/panelcfg/x/TablePanelCfg_types.gen", True),
    "text": ("text/panelcfg/x/TextPanelCfg_types.gen", False),
    "timeseries": ("timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen", True),
    "trend": ("trend/panelcfg/x/TrendPanelCfg_types.gen", True),
    "xychart": ("xychart/panelcfg/x/XYChartPanelCfg_types.gen", True),
}

_TSC_LINE = re.compile(
    r"^(?P<file>.+?)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.*)$"
)


class ToolMissing(RuntimeError):
    """node or npm is not installed."""


@dataclass(frozen=True)
class Problem:
    """One thing Grafana's types reject: the dashboard file, where in its JSON, and why."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


@dataclass
class _Module:
    """A generated TypeScript module and, per line, the JSON path it came from."""

    file: str
    lines: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, text: str, path: str) -> None:
        self.lines.append(text)
        self.paths.append(path)

    def literal(self, value: Any, path: str, indent: str, head: str, tail: str) -> None:
        """Append `value` as a TypeScript literal (JSON is one), one key or item per line."""
        if isinstance(value, dict) and value:
            self.add(f"{indent}{head}{{", path)
            for key, item in value.items():
                self.literal(item, _join(path, key), indent + "  ", f"{json.dumps(key)}: ", ",")
            self.add(f"{indent}}}{tail}", path)
        elif isinstance(value, list) and value:
            self.add(f"{indent}{head}[", path)
            for i, item in enumerate(value):
                self.literal(item, f"{path}[{i}]", indent + "  ", "", ",")
            self.add(f"{indent}]{tail}", path)
        else:
            self.add(f"{indent}{head}{json.dumps(value, ensure_ascii=False)}{tail}", path)

    def const(self, name: str, type_: str, value: Any, path: str) -> None:
        """Append `export const name: type_ = value;`."""
        self.literal(value, path, "", f"export const {name}: {type_} = ", ";")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _join(path: str, key: str) -> str:
    name = key if re.fullmatch(r"[A-Za-z_$][\w$]*", key) else json.dumps(key)
    return f"{path}.{name}" if path else name


def _panels(dashboard: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every panel with its JSON path, the panels inside rows included."""
    for i, panel in enumerate(dashboard.get("panels") or []):
        yield f"panels[{i}]", panel
        if isinstance(panel, dict) and panel.get("type") == "row":
            for j, inner in enumerate(panel.get("panels") or []):
                yield f"panels[{i}].panels[{j}]", inner


def typescript_module(file: str, dashboard: Mapping[str, Any]) -> _Module:
    """The TypeScript module holding `dashboard` to Grafana's types (see the module docstring)."""
    module = _Module(file)
    imports: dict[str, str] = {}
    body = _Module(file)
    body.const("dashboard", "Json<Dashboard>", dashboard, "")
    for n, (path, panel) in enumerate(_panels(dashboard)):
        if not isinstance(panel, dict) or panel.get("type") == "row":
            continue
        label = f'{path} ("{panel.get("title", "")}", {panel.get("type")})'
        plugin = PANEL_TYPES.get(str(panel.get("type")))
        if plugin is None:
            module.problems.append(
                Problem(
                    file,
                    label,
                    f"panel type {panel.get('type')!r} has no published types in @grafana/schema "
                    f"(known: {', '.join(sorted(PANEL_TYPES))})",
                )
            )
            continue
        ns = "P_" + re.sub(r"\W", "_", str(panel["type"]))
        imports[ns] = f"{_COMPOSABLE}/{plugin[0]}.js"
        custom = f"Json<{ns}.FieldConfig>" if plugin[1] else "NoCustomFieldConfig"
        if "options" in panel:
            body.const(f"p{n}_options", f"Json<{ns}.Options>", panel["options"], f"{path}.options")
        config = panel.get("fieldConfig") or {}
        defaults = config.get("defaults") or {}
        if "custom" in defaults:
            body.const(
                f"p{n}_custom", custom, defaults["custom"], f"{path}.fieldConfig.defaults.custom"
            )
        for o, override in enumerate(config.get("overrides") or []):
            for p, prop in enumerate(override.get("properties") or []):
                where = f"{path}.fieldConfig.overrides[{o}].properties[{p}]"
                key = str(prop.get("id", ""))
                if key.startswith("custom."):
                    type_, key = f"Partial<{custom}>", key.removeprefix("custom.")
                else:
                    type_ = "Partial<Json<Omit<FieldConfig, 'custom'>>>"
                body.const(f"p{n}_o{o}_{p}", type_, {key: prop.get("value")}, where)
        for t, target in enumerate(panel.get("targets") or []):
            body.const(
                f"p{n}_t{t}",
                "Json<DataQuery> & Record<string, unknown>",
                target,
                f"{path}.targets[{t}]",
            )
    module.add(f"// Generated from {file} by dashboards/schema_check.py: do not edit.", "")
    module.add(
        "import type { Dashboard, DataQuery, FieldConfig } from '@grafana/schema';", "(imports)"
    )
    for ns, source in sorted(imports.items()):
        module.add(f"import type * as {ns} from '{source}';", "(imports)")
    module.add("import type { Json, NoCustomFieldConfig } from './json';", "(imports)")
    module.lines += body.lines
    module.paths += body.paths
    return module


def _tsc_problems(output: str, modules: Mapping[str, _Module]) -> list[Problem]:
    """tsc's errors (`--pretty false`), each mapped back to its dashboard file and JSON path."""
    problems: list[Problem] = []
    for raw in output.splitlines():
        match = _TSC_LINE.match(raw)
        if match is None:
            if raw.startswith(" ") and problems:  # a continuation of the previous message
                last = problems[-1]
                more = _elide_object_types(raw.strip())
                problems[-1] = Problem(last.file, last.where, f"{last.message} {more}")
            elif raw.strip():
                problems.append(Problem("(tsc)", "-", raw.strip()))
            continue
        module = modules.get(Path(match["file"]).name)
        message = f"{match['code']} {_elide_object_types(match['msg'])}"
        if module is None:
            problems.append(Problem(match["file"], f"line {match['line']}", message))
            continue
        line = int(match["line"]) - 1
        where = module.paths[line] if 0 <= line < len(module.paths) else f"line {line + 1}"
        problems.append(Problem(module.file, where or "(dashboard)", message))
    return problems


def _elide_object_types(message: str) -> str:
    """`message` with each long object type tsc spells out ('{ a: ...; b: ... }') shortened."""
    out, i = [], 0
    while (start := message.find("'{", i)) >= 0:
        depth, end = 0, start + 1
        for end in range(start + 1, len(message)):
            depth += {"{": 1, "}": -1}.get(message[end], 0)
            if depth == 0:
                break
        long = end - start > 80
        out.append(message[i:start] + "'{ … }" if long else message[i : end + 1])
        i = end + 1
    return "".join(out) + message[i:]


def check(dashboards: Mapping[str, Mapping[str, Any]], work_dir: Path) -> list[Problem]:
    """Every problem Grafana's types find in `dashboards` ({file name: JSON}); [] when none.

    Writes the modules and a tsconfig into `work_dir`, then runs `tsc --noEmit` over them.
    """
    node_modules = ensure_installed()
    work_dir.mkdir(parents=True, exist_ok=True)
    link = work_dir / "node_modules"
    if not link.exists():
        link.symlink_to(node_modules, target_is_directory=True)
    shutil.copyfile(SCHEMA_DIR / "src" / "json.ts", work_dir / "json.ts")
    modules: dict[str, _Module] = {}
    problems: list[Problem] = []
    for i, (file, dashboard) in enumerate(sorted(dashboards.items())):
        module = typescript_module(file, dashboard)
        name = f"d{i}_" + re.sub(r"[^A-Za-z0-9]+", "_", file) + ".ts"
        (work_dir / name).write_text(module.text(), encoding="utf-8")
        modules[name] = module
        problems += module.problems
    config = {"extends": str(SCHEMA_DIR / "tsconfig.json"), "include": ["*.ts"]}
    (work_dir / "tsconfig.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    tsc = node_modules / "typescript" / "bin" / "tsc"
    result = subprocess.run(
        [_tool("node"), str(tsc), "--noEmit", "--pretty", "false", "-p", str(work_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    problems += _tsc_problems(result.stdout + result.stderr, modules)
    if result.returncode != 0 and not problems:
        problems.append(Problem("(tsc)", "-", f"exited {result.returncode} without an error"))
    return sorted(problems, key=lambda p: p.file)  # stable: each file's stay in line order


def load(directory: Path) -> dict[str, dict[str, Any]]:
    """Every dashboard under `directory` (`**/*.json`), keyed by its path relative to it."""
    return {
        path.relative_to(directory).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.rglob("*.json"))
    }


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(
            f"{name} is not installed: the dashboards' schema check needs Node.js and npm "
            "(apt-get install nodejs npm)"
        )
    return found


def ensure_installed(schema_dir: Path = SCHEMA_DIR) -> Path:
    """node_modules of `schema_dir`, installed by `npm ci` unless it already matches the lock."""
    node_modules = schema_dir / "node_modules"
    lock = hashlib.sha256((schema_dir / "package-lock.json").read_bytes()).hexdigest()
    stamp = node_modules / _STAMP
    if stamp.exists() and stamp.read_text().strip() == lock:
        return node_modules
    npm = _tool("npm")
    _tool("node")
    # pytest-xdist workers may all get here at once; one installs, the others wait for it.
    with _locked(schema_dir / ".npm-ci.lock"):
        if stamp.exists() and stamp.read_text().strip() == lock:
            return node_modules
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=schema_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm ci in {schema_dir} failed:\n{result.stdout}{result.stderr}")
        stamp.write_text(lock + "\n")
    return node_modules


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m dashboards.schema_check [DIR]`: check DIR's dashboards; 1 when any fails."""
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m dashboards.schema_check", description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=GENERATED_DIR)
    args = parser.parse_args(argv)
    dashboards = load(args.directory)
    with tempfile.TemporaryDirectory(prefix="plantroom-schema-") as tmp:
        problems = check(dashboards, Path(tmp))
    for problem in problems:
        print(problem)
    print(
        f"{len(dashboards)} dashboards, {len(problems)} problems "
        f"(@grafana/schema {_schema_version()})",
        file=sys.stderr,
    )
    return 1 if problems else 0


def _schema_version() -> str:
    return str(
        json.loads((SCHEMA_DIR / "package.json").read_text())["devDependencies"]["@grafana/schema"]
    )


if __name__ == "__main__":
    raise SystemExit(main())
