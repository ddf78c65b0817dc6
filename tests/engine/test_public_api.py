"""``engine/__init__.py`` is the only public surface, and engine never imports the web layer."""

from __future__ import annotations

import ast
from pathlib import Path

import engine

ENGINE = Path(engine.__file__).parent


def test_all_lists_exactly_what_is_exported():
    assert sorted(engine.__all__) == engine.__all__
    for name in engine.__all__:
        assert hasattr(engine, name), name


def test_engine_never_imports_flask_jinja_or_webapp():
    for path in ENGINE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"flask", "flask_babel", "jinja2", "webapp"}, (path, name)
