"""The web app reaches the engine through ``engine``'s public surface only (STYLE.md: engine/__init__.py
is the only public surface; webapp imports nothing deeper).

A module the engine exports by name (``engine.roles``, ``engine.juries``...) may be imported as such.
The command line's tools are the documented exceptions: the simulator and the benchmark are packages
of their own, and two commands count rows of a table directly.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import engine

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"
#: (file, module) pairs allowed to reach deeper, each with its reason
ALLOWED = {
    ("cli.py", "engine.simulation"),  # dsdt simulate: the simulator is a package of its own
    ("cli.py", "engine.simulation.conventions"),
    ("cli.py", "engine.simulation.sessions"),
    ("cli.py", "engine.bench"),  # dsdt bench
    ("demo.py", "engine.simulation"),  # the demo drives the simulator's people
    ("demo.py", "engine.simulation.fake_data"),
    ("cli.py", "engine.persistence.models"),  # dsdt simulate counts the journal's rows
    ("model_commands.py", "engine.persistence.models"),  # dsdt model export names a version
}


def deep_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.startswith("engine.")}
    return found


def test_the_web_app_imports_only_the_engines_public_surface():
    exported_modules = {getattr(engine, name).__name__ for name in engine.__all__
                        if inspect.ismodule(getattr(engine, name))}
    wrong = []
    for path in sorted(WEBAPP.rglob("*.py")):
        relative = path.relative_to(WEBAPP).as_posix()
        for module in deep_imports(path):
            if module in exported_modules or (relative, module) in ALLOWED:
                continue
            wrong.append(f"webapp/{relative}: {module}")
    assert not wrong, "import these through `from engine import ...` (export them there):\n" + "\n".join(wrong)


def test_the_check_sees_a_deep_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from engine.persistence.db import Database\nimport engine\nfrom engine import roles\n")
    assert deep_imports(sample) == {"engine.persistence.db"}
