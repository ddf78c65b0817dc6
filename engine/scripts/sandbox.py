"""A pool of sandbox processes that run untrusted scripts under hard limits.

Why processes: an in-process alarm cannot stop ``sum(range(10**12))`` (one C call never
returns to the interpreter) nor a script that catches every exception. The parent therefore
enforces a wall-clock deadline from outside: it waits on the pipe with a timeout and kills the
worker with SIGKILL when the deadline passes, then starts a fresh one. Inside the worker,
``RLIMIT_AS`` turns huge allocations (``'x' * 10**10``) into a ``MemoryError`` and
``RLIMIT_CPU`` is a backstop should the parent itself die.

Why a fresh interpreter (``subprocess``, ``python -I``) rather than ``multiprocessing``: a fork
would copy the engine process with its database connections, other threads' locks and
sockets; multiprocessing's "spawn" and "forkserver" re-import the parent's ``__main__`` in each
worker (a Flask or CLI entry point without a main guard would run again). A worker inherits
only its two pipes, an empty environment (no secrets such as the database URL) and imports
just this package's leaf modules and RestrictedPython (~50 ms, paid again only after a kill;
the replacement is started at once, in the background).

Only JSON crosses the boundary, in both directions (never pickle from a worker): task data
goes in, the result or an error description comes out, size-bounded.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
import weakref
from multiprocessing.connection import Connection
from typing import Any

from . import restricted, worker
from .errors import ScriptBusy, ScriptDataError, ScriptError, ScriptLimitExceeded, ScriptMemoryError, ScriptTimeout

__all__ = ["SandboxPool", "rebuild_error"]

MiB = 1024 * 1024
_MAX_MESSAGE = 2_000
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_BOOT_TIMEOUT = 30.0

# Exceptions a script may raise that are rebuilt as themselves in the parent (SpiffWorkflow
# inspects the type, e.g. NameError for its "did you mean" hint). Others become ScriptError.
_REBUILT = {cls.__name__: cls for cls in (
    ArithmeticError, AssertionError, AttributeError, ImportError, IndexError, KeyError, LookupError,
    NameError, NotImplementedError, OverflowError, RecursionError, RuntimeError, StopIteration,
    TypeError, UnboundLocalError, UnicodeError, ValueError, ZeroDivisionError)}


class SandboxPool:
    """Reusable sandbox worker processes; thread-safe; ``close()`` it (also done at exit).

    :param size: number of worker processes (callers beyond that wait for a free one).
    :param time_limit: default wall-clock seconds per call; the worker is killed after it.
    :param memory_limit: bytes a worker may allocate on top of its size at start.
    :param max_result_bytes: largest JSON result accepted from a worker.
    :param wait_limit: seconds a call waits for a free worker before ``ScriptBusy`` (default:
        ten seconds, or three time limits if longer): a command waiting holds its database lock.
    """

    def __init__(self, size: int = 1, time_limit: float = 2.0, memory_limit: int = 256 * MiB,
                 max_result_bytes: int = 16 * MiB, wait_limit: float | None = None):
        if size < 1:
            raise ValueError("a sandbox pool needs at least one worker")
        self.size = size
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.max_result_bytes = max_result_bytes
        self.wait_limit = max(10.0, 3 * time_limit) if wait_limit is None else wait_limit
        self.calls = 0
        """Number of calls made to the sandbox (tests check the fast path bypasses it)."""
        self._closed = False
        self._reset()
        ref = weakref.ref(self)
        atexit.register(lambda: (pool := ref()) is not None and pool.close())

    def run(self, mode: str, source: str, data: dict, external_context: dict | None = None,
            time_limit: float | None = None) -> Any:
        """Run ``source`` in a worker and return its result.

        ``mode="exec"`` returns the script's resulting variables as a dict, ``mode="eval"``
        the expression's value. Raises ``ScriptTimeout``, ``ScriptMemoryError``,
        ``ScriptLimitExceeded``, ``ScriptDataError``, ``SyntaxError`` (with ``lineno``), or
        the script's own exception rebuilt (see ``rebuild_error``), with a ``line_number``;
        ``ScriptBusy`` if no worker became free within the wait limit.
        """
        if mode not in ("exec", "eval"):
            raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
        restricted.check_json(data, "task data")
        restricted.check_json(external_context or {}, "external context")
        limit = self.time_limit if time_limit is None else time_limit
        payload = json.dumps({"mode": mode, "source": source, "data": data,
                              "external": external_context or {}, "cpu": int(limit) + 1}).encode()
        worker = self._acquire()
        keep = False
        try:
            reply = worker.call(payload, limit, self.max_result_bytes)
            keep = reply is not None and not reply.get("recycle")
        finally:
            self._release(worker, keep)
        if reply is None:
            raise ScriptTimeout(f"the script ran longer than the {limit:g} s time limit and was stopped")
        if reply.get("ok"):
            return reply["value"]
        raise rebuild_error(reply, source)

    def close(self) -> None:
        """Stop every worker. Calls in progress finish (or time out); later calls fail."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for idle_worker in idle:
            idle_worker.stop()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _reset(self) -> None:
        # Also called in a forked child (gunicorn --preload): the parent's workers and lock
        # are not ours to use, so start afresh.
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0

    def _acquire(self) -> _Worker:
        if self._pid != os.getpid():
            self._reset()
        deadline = time.monotonic() + self.wait_limit
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the sandbox pool is closed")
                self.calls += 1
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                self.calls -= 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ScriptBusy(f"every sandbox worker stayed busy for {self.wait_limit:g} s: the script "
                                     "did not run; try again in a moment")
                self._cond.wait(left)
        try:
            return _Worker(self.memory_limit)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker, keep: bool) -> None:
        if not keep:
            worker.kill()
            if not self._closed:
                # Start the replacement now: it boots while the caller handles the error.
                try:
                    worker, keep = _Worker(self.memory_limit), True
                except OSError:
                    pass
        with self._cond:
            if keep and not self._closed:
                self._idle.append(worker)
            else:
                self._count -= 1
            self._cond.notify()
        if keep and self._closed:
            worker.stop()


# Runs in the fresh interpreter: register this module's parent packages without executing
# their __init__ (which would import SpiffWorkflow and the whole engine), then serve.
_BOOT = """
import importlib, os, sys, types
module, directory = sys.argv[1], sys.argv[2]
parts = module.split(".")[:-1]
for i in range(len(parts), 0, -1):
    package = types.ModuleType(".".join(parts[:i]))
    package.__path__ = [directory]
    sys.modules[package.__name__] = package
    directory = os.path.dirname(directory)
importlib.import_module(module).main(int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
"""


class _Worker:
    """One sandbox process and the parent's ends of its two pipes."""

    def __init__(self, memory_limit: int):
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOT, worker.__name__, _PACKAGE_DIR,
                 str(to_child), str(from_child), str(memory_limit)],
                pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                env={"LC_ALL": "C.UTF-8"}, close_fds=True)
        except BaseException:
            for fd in (to_child, from_parent, to_parent, from_child):
                os.close(fd)
            raise
        os.close(to_child)
        os.close(from_child)
        self.writer = Connection(from_parent, readable=False)
        self.reader = Connection(to_parent, writable=False)
        self.ready = False

    def call(self, payload: bytes, timeout: float, max_bytes: int) -> dict | None:
        """Send one request; the decoded reply, or None if the deadline passed."""
        try:
            if not self.ready:
                # The deadline covers the script, not the interpreter's start: wait for the
                # worker's greeting first (generously: a loaded machine starts slowly).
                if not self.reader.poll(_BOOT_TIMEOUT):
                    raise OSError("the sandbox process did not start")
                self.reader.recv_bytes(16)
                self.ready = True
            self.writer.send_bytes(payload)
            if not self.reader.poll(timeout):
                return None
            raw = self.reader.recv_bytes(max_bytes)
        except (EOFError, OSError) as exc:
            # The worker died (RLIMIT_CPU, out of memory) or sent an oversized reply.
            return {"ok": False, "recycle": True, "kind": "limit", "type": type(exc).__name__,
                    "message": "the sandbox process stopped: the script exceeded a resource limit "
                               f"(CPU, memory or a result over {max_bytes // MiB} MiB)"}
        return json.loads(raw)

    def kill(self) -> None:
        """Kill at once (the worker may be stuck in a C call that ignores everything else)."""
        try:
            self.process.kill()
            self.process.wait(5)
        finally:
            self.writer.close()
            self.reader.close()

    def stop(self) -> None:
        """Ask the worker to exit, kill it if it does not."""
        try:
            self.writer.send_bytes(b"")
            self.process.wait(1)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


def rebuild_error(reply: dict, source: str) -> BaseException:
    """Turn a worker's error reply into an exception with a ``line_number`` attribute."""
    type_name = str(reply.get("type") or "Error")
    message = str(reply.get("message") or "")[:_MAX_MESSAGE]
    line = reply.get("line") if isinstance(reply.get("line"), int) else None
    kind = reply.get("kind")
    exc: BaseException
    if kind == "memory":
        exc = ScriptMemoryError("the script needed more memory than the sandbox allows", line_number=line)
    elif kind == "limit":
        exc = ScriptLimitExceeded(message, error_type=type_name, line_number=line)
    elif kind == "data":
        exc = ScriptDataError(message, line_number=line)
    elif type_name == "SyntaxError":
        lines = source.splitlines()
        text = lines[line - 1] if line and 0 < line <= len(lines) else None
        exc = SyntaxError(message, (restricted.FILENAME, line or 1, None, text))
    elif type_name in _REBUILT:
        exc = _REBUILT[type_name](message)
    else:
        exc = ScriptError(f"{type_name}: {message}" if message else type_name,
                          error_type=type_name, line_number=line)
    exc.line_number = line  # type: ignore[attr-defined]
    return exc
