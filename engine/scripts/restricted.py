"""Compile and run untrusted script text with RestrictedPython.

This module is shared by the sandbox workers (which run everything) and by the engine's own
process (which runs only the provably cheap expressions of ``fastpath``). It holds:

* ``compile_script``: RestrictedPython compilation with an LRU cache, raising a ``SyntaxError``
  that carries a line number (RestrictedPython only reports ``"Line N: ..."`` strings);
* the globals a script sees: safe builtins, our guards and ``HELPERS``, never a module;
* ``run``: execute or evaluate against JSON-like data;
* ``check_json``: the one definition of "JSON-like data" used at the boundary.
"""

from __future__ import annotations

import builtins
import math
import operator
import re
import traceback
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.PrintCollector import PrintCollector

from ..limits import MAX_SAFE_INTEGER
from .errors import ScriptDataError
from .helpers import HELPERS

__all__ = ["FILENAME", "MAX_DATA_SIZE", "MAX_SOURCE_LENGTH", "check_json", "compile_script",
           "error_line_number", "run"]

FILENAME = "<script>"
"""Code-object filename of compiled scripts: how tracebacks find the script's own frames."""

MAX_SOURCE_LENGTH = 100_000
"""Longer script text is refused before parsing (parsing cost grows with it)."""

_MAX_DEPTH = 100

_LINE_RE = re.compile(r"^Line (\d+): ")


@lru_cache(maxsize=2048)
def compile_script(source: str, mode: str = "exec") -> CodeType:
    """Compile ``source`` with RestrictedPython (``mode`` is ``"exec"`` or ``"eval"``).

    Cached by source text, so each distinct script is compiled once per process. Raises a
    ``SyntaxError`` with ``lineno`` and ``text`` set for syntax errors and for constructs that
    RestrictedPython forbids (``__class__``, names starting with ``_``...).
    """
    if not isinstance(source, str):
        raise TypeError(f"script text must be a string, got {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise SyntaxError(f"script is too long ({len(source)} characters, the limit is {MAX_SOURCE_LENGTH})",
                          (FILENAME, 1, None, None))
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    result = compiler(source, filename=FILENAME)
    if result.errors or result.code is None:
        first = result.errors[0] if result.errors else "could not compile the script"
        match = _LINE_RE.match(first)
        lineno = int(match.group(1)) if match else 1
        message = first[match.end():] if match else first
        message = message.removeprefix("SyntaxError: ")
        lines = source.splitlines()
        text = lines[lineno - 1] if 0 < lineno <= len(lines) else None
        raise SyntaxError(message, (FILENAME, lineno, None, text))
    return result.code


# --- guards ---------------------------------------------------------------------------------

# Attribute access is allowed on plain data only: methods of these types cannot lead to a
# module, a frame or a class (underscore names are refused separately).
_ATTRIBUTE_TYPES = frozenset({dict, list, tuple, str, int, float, bool, set, frozenset})
# str.format can read attributes of its arguments ("{0.__class__}"), bypassing _getattr_.
_FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map"})


def guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    """``_getattr_``: ``obj.name`` only for public attributes of data values."""
    if not isinstance(name, str) or name.startswith("_") or name in _FORBIDDEN_ATTRIBUTES:
        raise AttributeError(f"access to attribute {name!r} is not allowed in scripts")
    if type(obj) not in _ATTRIBUTE_TYPES:
        raise AttributeError(f"attribute access is only allowed on data values, not on {type(obj).__name__}")
    return getattr(obj, name, *default)


def guarded_getitem(obj: Any, key: Any) -> Any:
    """``_getitem_``: ``obj[key]``, refused on classes (``list[int]`` builds a type alias)."""
    if isinstance(obj, type):
        raise TypeError("subscripting a type is not allowed in scripts")
    return obj[key]


def guarded_apply(func: Any, *args: Any, **kwargs: Any) -> Any:
    """``_apply_``: calls written with ``*args`` / ``**kwargs``."""
    return func(*args, **kwargs)


_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}


def guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    """``_inplacevar_``: ``x += y`` and friends."""
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise SyntaxError(f"operator {op} is not allowed in scripts") from None


class _DiscardPrints(PrintCollector):
    """``_print_``: ``print()`` is accepted and its output thrown away (scripts have no console)."""

    def write(self, text: str) -> None:
        pass


def _no_import(*args: Any, **kwargs: Any) -> Any:
    raise ImportError("import is not allowed in scripts: use the helper functions provided")


def _build_builtins() -> dict[str, Any]:
    names = dict(safe_builtins)
    names.update(limited_builtins)
    # No classes, no attribute writes by name: scripts transform data, they define no types.
    for name in ("__build_class__", "setattr", "delattr", "_getattr_"):
        names.pop(name, None)
    # limited_range refuses ranges over 1000 items, which legitimate loops may need; a huge
    # range costs nothing until iterated, and iteration is bounded by the sandbox's deadline.
    names["range"] = builtins.range
    for name in ("all", "any", "dict", "enumerate", "filter", "map", "max", "min", "reversed",
                 "set", "frozenset", "sorted", "sum", "zip"):
        names[name] = getattr(builtins, name)
    names["__import__"] = _no_import
    return names


SAFE_BUILTINS: dict[str, Any] = _build_builtins()
"""The builtins of every script: RestrictedPython's safe and limited sets, no modules."""

GUARDS: dict[str, Any] = {
    "_getattr_": guarded_getattr,
    "_getitem_": guarded_getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": guarded_inplacevar,
    "_apply_": guarded_apply,
    "_print_": _DiscardPrints,
}


def make_globals(data: dict, external_context: dict | None = None) -> dict[str, Any]:
    """The namespace of one run: helpers, then task data, then the external context
    (which wins, as in SpiffWorkflow: DMN's ``dmninputexpr``, data objects)."""
    namespace: dict[str, Any] = {"__builtins__": SAFE_BUILTINS, "__name__": "script"}
    namespace.update(GUARDS)
    namespace.update(HELPERS)
    namespace.update(data)
    if external_context:
        namespace.update(external_context)
    return namespace


def run(mode: str, source: str, data: dict, external_context: dict | None = None) -> Any:
    """Run ``source`` on ``data``; not isolated: callers decide where (sandbox or fast path).

    ``mode="eval"`` returns the expression's value. ``mode="exec"`` returns the script's
    resulting variables: the data plus what it assigned, minus what it deleted, without our
    globals, the external context, and functions it defined (as SpiffWorkflow does).
    """
    code = compile_script(source, mode)
    namespace = make_globals(data, external_context)
    if mode == "eval":
        return eval(code, namespace)
    exec(code, namespace)
    skip = set(external_context or ())
    return {
        key: value for key, value in namespace.items()
        if not key.startswith("_") and key not in skip and not callable(value)
        and not (key in HELPERS and value is HELPERS[key])
    }


# Integers beyond ±limits.MAX_SAFE_INTEGER (2^53 - 1) are refused: JSON readers (JavaScript,
# orjson) lose their precision. The one bound the web layer and the form checks use too.
MAX_DATA_SIZE = 4_000_000
"""Largest JSON-like value crossing the boundary, counted once expanded: one per value plus the
characters of its strings and keys (a part shared twice counts twice, as JSON will write it)."""


def check_json(value: Any, where: str = "value", max_size: int = MAX_DATA_SIZE) -> int:
    """Raise ``ScriptDataError`` unless ``value`` is JSON-like data; return its expanded size.

    Accepted: dict with str keys, list, tuple (becomes a list), str, int within ±2^53, finite
    float, bool, None, nested at most 100 levels, at most ``max_size`` once expanded. A part
    shared several times (``b = [a, a]``) is walked once and counted each time, so a value that
    expands exponentially is refused at once; a value that contains itself is refused too.
    """
    check = _JsonCheck(max_size)
    check.walk(value, where, 0)
    return check.size


class _JsonCheck:
    __slots__ = ("max_size", "open", "size", "sizes")

    def __init__(self, max_size: int):
        self.max_size = max_size
        self.size = 0
        self.sizes: dict[int, int] = {}  # id of a container already walked -> its expanded size
        self.open: set[int] = set()  # ids of the containers being walked (a cycle comes back to one)

    def walk(self, value: Any, where: str, depth: int) -> None:
        kind = type(value)
        if kind is str:
            self.size += len(value) + 1
            self._within(where)
            return
        if value is None or kind is bool:
            self.size += 1
            return
        if kind is int:
            if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                shown = value if value.bit_length() < 200 else f"an integer of {value.bit_length()} bits"
                raise ScriptDataError(f"{where} is {shown}, beyond ±(2^53 - 1) ({MAX_SAFE_INTEGER}), which JSON cannot "
                                      "carry exactly: store it as a string")
            self.size += 1
            return
        if kind is float:
            if not math.isfinite(value):
                raise ScriptDataError(f"{where} is {value!r}, which is not valid JSON data")
            self.size += 1
            return
        if kind not in (dict, list, tuple):
            raise ScriptDataError(
                f"{where} is a {kind.__name__}, which is not JSON data: "
                "use only dicts, lists, strings, numbers, booleans and None")
        key = id(value)
        known = self.sizes.get(key)
        if known is not None:
            self.size += known
            self._within(where)
            return
        if key in self.open:
            raise ScriptDataError(f"{where} contains itself, which JSON cannot represent")
        if depth >= _MAX_DEPTH:
            raise ScriptDataError(f"{where} is nested more than {_MAX_DEPTH} levels deep")
        self.open.add(key)
        start = self.size
        self.size += 1
        if kind is dict:
            for name, item in value.items():
                if type(name) is not str:
                    raise ScriptDataError(f"{where} has a key {name!r:.40} that is not a string; use string keys")
                self.size += len(name) + 1
                self.walk(item, f"{where}[{name!r:.40}]", depth + 1)
        else:
            for index, item in enumerate(value):
                self.walk(item, f"{where}[{index}]", depth + 1)
        self._within(where)
        self.open.discard(key)
        self.sizes[key] = self.size - start

    def _within(self, where: str) -> None:
        if self.size > self.max_size:
            raise ScriptDataError(
                f"{where} is too large: the data would exceed {self.max_size:,} values and characters "
                "once written out (a part used several times counts each time); keep less in the workflow")


def error_line_number(exc: BaseException) -> int | None:
    """The line of the script where ``exc`` was raised (innermost script frame), if any."""
    if isinstance(exc, SyntaxError) and exc.filename == FILENAME:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == FILENAME:
            line = frame.lineno
    return line
