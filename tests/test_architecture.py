"""The import contracts in pyproject.toml ([tool.importlinter]) hold: packages import one way
(STYLE.md's house), nothing imports the composition root, core imports no domain, the workorders
subpackages keep their layers, and only collectors.links and the simulator import pymodbus. A
wrong import fails here with the contract and the import named."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parent.parent
#: The root packages the contracts cover (tool.importlinter.root_packages).
PACKAGES = (
    "core",
    "config",
    "collectors",
    "alerts",
    "workorders",
    "analytics",
    "dashboards",
    "plantroom",
)


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    """Run this environment's lint-imports on the tree at where (its pyproject.toml)."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.is_file():
        need("lint-imports", "pip install -e '.[dev]' (import-linter is a dev dependency)")
    return subprocess.run(
        [str(exe), "--no-cache", "--no-logo"],
        cwd=where,
        # The tree at `where` first, ahead of the editable install of this one.
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where), "NO_COLOR": "1", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def sources_only(_folder: str, names: list[str]) -> list[str]:
    """copytree's ignore: everything but Python sources and folders."""
    return [n for n in names if n == "__pycache__" or ("." in n and not n.endswith(".py"))]


def broken_part(out: str) -> str:
    """lint-imports' report from its list of broken contracts on (the whole report if none)."""
    return out[out.find("Broken contracts") :] if "Broken contracts" in out else out


def test_the_packages_keep_every_import_contract() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, f"import contracts broken:\n{broken_part(done.stdout)}"
    assert "Contracts: 5 kept, 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "named"),
    [
        (
            "core/db.py",
            "import workorders",
            "core is the kernel: it imports no domain",
            "core.db -> workorders",
        ),
        (
            "alerts/events.py",
            "from plantroom import app",
            "plantroom is the composition root: nothing imports it",
            "alerts.events -> plantroom.app",
        ),
        (
            "collectors/decode.py",
            "import alerts.models",
            "Packages import one way",
            "collectors.decode -> alerts.models",
        ),
        (
            "workorders/orders/models.py",
            "from workorders.web import routes",
            "workorders: web, intake, overview and plant above",
            "workorders.orders.models -> workorders.web.routes",
        ),
        (
            "alerts/engine.py",
            "import pymodbus",
            "pymodbus is imported only by collectors.links and the simulator",
            "alerts.engine -> pymodbus",
        ),
    ],
)
def test_a_wrong_import_breaks_its_contract_by_name(
    tmp_path: Path, module: str, line: str, contract: str, named: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=sources_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # the deliberate mistake\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    broken = broken_part(done.stdout)
    assert contract in broken
    assert named in broken
