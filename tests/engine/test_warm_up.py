"""``WorkflowEngine.warm_up`` prepares at start what a new process's first command would otherwise
pay (issue 13 item 6): checked in a process of its own, where nothing ran before the engine's start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.config import EngineConfig
from engine.service import WorkflowEngine

ROOT = Path(__file__).resolve().parents[2]

# Run in a new interpreter: builds the engine as the web app and the worker do, then reports,
# before any command, what its first command would still have to prepare.
PROBE = """
import json, sys
from engine.bpmn.parser import model_code
from engine.config import EngineConfig
from engine.persistence import raw
from engine.scripts.fastpath import is_cheap, is_cheap_script
from engine.service import WorkflowEngine

engine = WorkflowEngine.from_config(EngineConfig(sys.argv[1], script_workers=1))
try:
    dialect = engine.db.engine.dialect.name
    uncompiled = sorted(s.sql for s in list(raw._ALL) if dialect not in s._by_dialect)
    with engine.db.engine.connect() as connection:
        current = engine.deployments.current_id(connection)
        models = engine.deployments.models(connection, current)
    schemas = sorted(name for name in models.forms if name.endswith(".schema.json"))
    codes = [code for family in (models.families or {None: models}).values() for code in model_code(family)]
    misses = is_cheap.cache_info().misses + is_cheap_script.cache_info().misses
    for code in codes:
        (is_cheap_script if code.mode == "exec" else is_cheap)(code.source)
    print(json.dumps({
        "statements": len(raw._ALL), "uncompiled": uncompiled,
        "schemas": schemas, "validators": sorted(form for (_, form) in engine._validators),
        "codes": len(codes),
        "classified_later": is_cheap.cache_info().misses + is_cheap_script.cache_info().misses - misses,
    }))
finally:
    engine.close()
"""


def test_a_new_process_starts_with_statements_forms_and_scripts_prepared(tmp_path):
    url = f"sqlite:///{tmp_path / 'warm.sqlite'}"
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1))
    try:
        engine.deploy_directory(ROOT, author="test")
    finally:
        engine.close()
    done = subprocess.run([sys.executable, "-c", PROBE, url], capture_output=True, text=True, timeout=120,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["statements"] > 10 and report["uncompiled"] == []
    assert report["schemas"] and report["validators"] == report["schemas"]
    assert report["codes"] > 10 and report["classified_later"] == 0
