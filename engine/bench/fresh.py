"""One command in a process of its own: what a new web worker or timer worker pays first.

``python -m engine.bench.fresh REQUEST_JSON`` builds the engine as :func:`.stores.build` does,
runs one command (``start`` or ``complete``), and prints a JSON line: the milliseconds of the
imports, of building the engine, and of the command itself (the parse of the deployment's
models, the load of the dossier, the command), and the command's CPU time (``first_command_cpu_ms``:
on a loaded machine a new process waits for a CPU, and its wall time says more of the load than of
the code).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

_BEGAN = time.perf_counter()


def run_in_fresh_process(request: dict, timeout: float = 120) -> dict:
    """Run ``request`` in a new Python process; its JSON report."""
    done = subprocess.run([sys.executable, "-m", "engine.bench.fresh", json.dumps(request)],
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the fresh process failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    request = json.loads(sys.argv[1])
    from datetime import datetime

    from ..commands import Actor
    from .stores import build

    imported = time.perf_counter()
    engine = build(request["url"], request["synchronous"], start=datetime.fromisoformat(request["now"]))
    built = time.perf_counter()
    try:
        actor = Actor(request["login"], frozenset(request["roles"]), frozenset(request["scope"]))
        profiler = None
        if request.get("profile"):  # a path: the command's cProfile statistics are written there
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu = time.process_time()
        if request["command"] == "start":
            engine.start(actor, request["campaign"])
        else:
            engine.complete(actor, request["instance_id"], request["task_ref"], request["data"])
        done = time.perf_counter()
        cpu = time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(request["profile"])
    finally:
        engine.close()
    print(json.dumps({"import_ms": round((imported - _BEGAN) * 1000, 3),
                      "build_ms": round((built - imported) * 1000, 3),
                      "first_command_ms": round((done - built) * 1000, 3),
                      "first_command_cpu_ms": round(cpu * 1000, 3)}))


if __name__ == "__main__":
    main()
