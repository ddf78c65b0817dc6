"""The sandbox worker: runs inside a fresh ``python -I`` process started by ``SandboxPool``.

It imports only ``restricted`` (and through it ``helpers``, ``errors``) and RestrictedPython:
the boot code in ``sandbox`` registers the parent packages without running their
``__init__``. It sets its own resource limits, then answers one JSON request at a time.
"""

from __future__ import annotations

import json
import resource
import signal
from multiprocessing.connection import Connection

from . import restricted
from .errors import ScriptDataError

__all__ = ["main"]

_MAX_MESSAGE = 2_000


def main(read_fd: int, write_fd: int, memory_limit: int) -> None:
    """Serve requests until the parent closes the pipe or sends an empty message."""
    reader = Connection(read_fd, writable=False)
    writer = Connection(write_fd, readable=False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which kills us
    # Hard limits too: these never need raising (RLIMIT_CPU's soft limit moves per call).
    _set_limit(resource.RLIMIT_AS, _address_space() + memory_limit, hard=True)
    _set_limit(resource.RLIMIT_FSIZE, 0, hard=True)  # scripts cannot open files; belt and braces
    _set_limit(resource.RLIMIT_CORE, 0, hard=True)
    writer.send_bytes(b"ready")  # limits are set: the parent may start its deadline clock
    while True:
        try:
            raw = reader.recv_bytes()
        except (EOFError, OSError):
            return
        if not raw:
            return
        request = json.loads(raw)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        _set_limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + 1 + request["cpu"])
        writer.send_bytes(_handle(request))


def _handle(request: dict) -> bytes:
    try:
        value = restricted.run(request["mode"], request["source"], request["data"], request["external"])
        restricted.check_json(value, "the result" if request["mode"] == "eval" else "script data")
        return json.dumps({"ok": True, "value": value}, allow_nan=False).encode()
    except MemoryError as exc:
        reply = {"ok": False, "kind": "memory", "type": "MemoryError", "recycle": True,
                 "line": restricted.error_line_number(exc)}
    except ScriptDataError as exc:
        reply = {"ok": False, "kind": "data", "type": "ScriptDataError", "message": str(exc)}
    except BaseException as exc:  # SystemExit, KeyboardInterrupt...: report, never exit
        reply = {"ok": False, "kind": "error", "type": type(exc).__name__,
                 "message": _message(exc), "line": restricted.error_line_number(exc)}
    return json.dumps(reply).encode()


def _message(exc: BaseException) -> str:
    try:
        if isinstance(exc, SyntaxError):
            return str(exc.msg)[:_MAX_MESSAGE]
        if len(exc.args) == 1 and isinstance(exc.args[0], str):
            return exc.args[0][:_MAX_MESSAGE]
        return str(exc)[:_MAX_MESSAGE]
    except BaseException:  # a pathological message must not take the worker down
        return ""


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _set_limit(which: int, soft: int, hard: bool = False) -> None:
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft = min(soft, current_hard)
    try:
        resource.setrlimit(which, (soft, soft if hard else current_hard))
    except (ValueError, OSError):
        pass
