"""YAML loading that remembers the line of every key, so config errors can name file:line:field."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One config error, located at file:line and a dotted field path."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '<document>'}: {self.message}"


class ConfigError(Exception):
    """A config file is invalid; carries every problem found, each with file:line:field."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def format_path(path: Path_) -> str:
    """Render ('a', 0, 'b') as 'a[0].b'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class LocatedDoc:
    """A parsed YAML document plus the line (1-based) of each key and list item."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[Path_, int]] = field(default_factory=list)

    def line_of(self, path: Path_) -> tuple[int, Path_]:
        """Line of the deepest known prefix of path, and the prefix that was found."""
        for n in range(len(path), -1, -1):
            prefix = tuple(path[:n])
            if prefix in self.lines:
                return self.lines[prefix], prefix
        return 1, ()

    def problem(self, path: Path_, message: str) -> Problem:
        """Build a Problem located at path (or the nearest enclosing key)."""
        line, _ = self.line_of(path)
        return Problem(self.file, line, format_path(path), message)


def _walk(node: yaml.Node, path: Path_, doc: LocatedDoc) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":int"):
                key = int(key)
            child = (*path, key)
            if key in seen:
                doc.duplicate_keys.append((child, key_node.start_mark.line + 1))
            seen.add(key)
            doc.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, doc)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            doc.lines[child] = item.start_mark.line + 1
            _walk(item, child, doc)


class _Loader(yaml.SafeLoader):
    """SafeLoader, except that a date that does not exist (2027-02-30) stays a string, so the
    schema reports it at its file:line instead of the YAML library raising a bare ValueError."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def env_names(text: str) -> set[str]:
    """The environment variables a YAML text substitutes, as ${NAME} or ${NAME:-default}."""
    return {m.group(1) for m in _ENV.finditer(text)}


def _substitute_env(text: str, name: str) -> tuple[str, list[Problem]]:
    """Replace ${VAR} and ${VAR:-default} with the environment's values, keeping line numbers."""
    missing: list[Problem] = []

    def repl(m: re.Match[str], line: int) -> str:
        value = os.environ.get(m.group(1))
        if value is not None:
            return value
        if m.group(2) is not None:
            return m.group(2)
        missing.append(Problem(name, line, m.group(1), "environment variable is not set"))
        return m.group(0)

    lines = text.split("\n")
    out = []
    for n, ln in enumerate(lines, 1):
        out.append(_ENV.sub(partial(repl, line=n), ln) if "${" in ln else ln)
    return "\n".join(out), missing


def load_located(path: Path) -> LocatedDoc:
    """Parse one YAML file; a syntax error becomes a ConfigError with its line."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(name, 0, "", f"cannot read file: {exc.strerror}")]) from exc
    text, missing = _substitute_env(text, name)
    if missing:
        # Before parsing: a ${VAR} left in place can itself be a YAML error, e.g. in {port: ${X}}.
        raise ConfigError(missing)
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise ConfigError([Problem(name, line, "", f"YAML syntax error: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(name, 0, "", f"YAML error: {exc}")]) from exc
    doc = LocatedDoc(file=name, data=data)
    if node is not None:
        _walk(node, (), doc)
    return doc


def pydantic_problems(doc: LocatedDoc, exc: Any, base: Path_ = ()) -> list[Problem]:
    """Turn a pydantic ValidationError into located Problems.

    Discriminated-union tags that pydantic inserts into the location (e.g. 'tcp' in
    link.tcp.port) are dropped when they are not keys of the data.
    """
    problems = []
    for err in exc.errors():
        path = _data_path(doc.data, (*base, *err["loc"]), len(base))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        problems.append(doc.problem(path, msg))
    return problems


def _data_path(data: Any, loc: Path_, skip: int) -> Path_:
    """Follow loc through data. Parts missing from the data are union tags and are dropped,
    except the last one, which is the name of a missing field."""
    out: list[str | int] = list(loc[:skip])
    cur = data
    for part in loc[:skip]:
        cur = _child(cur, part)
    rest = loc[skip:]
    for i, part in enumerate(rest):
        nxt = _child(cur, part)
        if nxt is _MISSING:
            if i == len(rest) - 1 and isinstance(part, str):
                out.append(part)
            continue
        out.append(part)
        cur = nxt
    return tuple(out)


_MISSING = object()


def _child(cur: Any, part: str | int) -> Any:
    if isinstance(cur, dict) and part in cur:
        return cur[part]
    if isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
        return cur[part]
    return _MISSING
