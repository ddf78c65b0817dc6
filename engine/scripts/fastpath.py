"""Decide which expressions are provably cheap enough to run in the engine's own process.

Gateway conditions, timer expressions and DMN cells are evaluated many times per command; a
round trip to a sandbox process for ``decision == "ok"`` would dominate their cost. An
expression takes the fast path only if its syntax tree is built from a whitelist whose every
node runs in time and memory linear in the size of the (already loaded) task data:

* names (not starting with ``_``), constants, lists, tuples and dicts of allowed nodes;
* comparisons, ``and`` / ``or``, ``not``, unary ``-`` / ``+``, ``a if c else b``;
* at most a few ``+`` / ``-`` (no ``*``, ``**``, ``%``: ``'x' * 10**10`` is one line);
* subscripts with a constant, a name or a negative constant as index, slices with constant bounds;
* ``x.get(args)`` (chained ``.get`` too), calls of ``HELPERS`` and of
  ``len abs bool str int float min max``, and ``sorted`` / ``sum`` of one argument;
* one-level list and set comprehensions (``[e["note"] for e in evaluations if e.get("ok")]``)
  over an allowed expression, whose element and conditions use only the loop variable: each
  element is visited once and nothing else is, so the cost stays linear in the data.

No loop statement, nested comprehension, lambda or other call can appear, so the expression
ends quickly. Linear operations are not enough, since a line can double what the one before
built (``b = a + a``): :mod:`.bounds` bounds the size of every value the code builds as a small
multiple of its input's size plus a constant, and code over that budget goes to the sandbox.

A *script* takes the fast path (:func:`is_cheap_script`) when it is a short sequence of
assignments to plain names of such expressions, possibly under ``if``/``elif``/``else`` with such
tests: the scripts that close a branch (``issue = "inadapte"``, ``motif_fin = ...``) or copy a
value. Any loop, ``def``, ``del``, augmented or subscript assignment sends it to the sandbox.
Everything else goes to the sandbox. It is still compiled with RestrictedPython and run with
the same guards.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from .bounds import INPUT, Bound, join, size_bound
from .helpers import HELPERS

__all__ = ["MAX_FAST_LENGTH", "is_cheap", "is_cheap_script"]

MAX_FAST_LENGTH = 1_000
"""Longer expressions always go to the sandbox."""

_MAX_BINOPS = 8

# Builtins whose cost is linear in their argument (or constant).
_CHEAP_BUILTINS = frozenset({"len", "abs", "bool", "str", "int", "float", "min", "max"})
# Linear (or n log n) in one argument; ``sum(lists, [])`` with a start would be quadratic.
_ONE_ARGUMENT = frozenset({"sorted", "sum"})
_CHEAP_CALLS = _CHEAP_BUILTINS | _ONE_ARGUMENT | frozenset(HELPERS)
_CHEAP_METHODS = frozenset({"get"})

# A slice is checked by its subscript (constant bounds only).
_LEAVES = (ast.Constant, ast.Load, ast.Store, ast.comprehension, ast.Slice)
_OPERATORS = (
    ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Add, ast.Sub,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
)
_CONTAINERS = (ast.Expression, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.IfExp, ast.List, ast.Tuple, ast.Dict)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp)


@lru_cache(maxsize=4096)
def is_cheap(expression: str) -> bool:
    """True if ``expression`` may run in-process (see the module docstring for the rules)."""
    if not isinstance(expression, str) or len(expression) > MAX_FAST_LENGTH:
        return False
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # the sandbox reports the error properly, with its line number
    binops = _binops_if_allowed(tree)
    return binops is not None and binops <= _MAX_BINOPS and size_bound(tree, {}) is not None


_MAX_STATEMENTS = 40


@lru_cache(maxsize=1024)
def is_cheap_script(script: str) -> bool:
    """True if ``script`` may run in-process (see the module docstring for the rules)."""
    if not isinstance(script, str) or len(script) > MAX_FAST_LENGTH * 4:
        return False
    try:
        tree = ast.parse(script, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return _cheap_statements(tree.body, {}, _Budget()) is not None


class _Budget:
    """What a script may still spend: statements and ``+`` / ``-`` operators."""

    def __init__(self):
        self.statements = _MAX_STATEMENTS
        self.binops = _MAX_BINOPS * 4


def _cheap_statements(statements: list[ast.stmt], env: dict[str, Bound], budget: _Budget
                      ) -> dict[str, Bound] | None:
    """The size bounds of the names assigned after ``statements`` (in order), or None if they
    are not provably cheap. ``env`` holds the bounds of names assigned before them."""
    for statement in statements:
        budget.statements -= 1
        if budget.statements < 0:
            return None
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.If):
            if not _cheap_expression(statement.test, env, budget):
                return None
            taken = _cheap_statements(statement.body, dict(env), budget)
            skipped = _cheap_statements(statement.orelse, dict(env), budget)
            if taken is None or skipped is None:
                return None
            # Only one branch runs: each name keeps the larger of its two bounds.
            env = {name: join(taken.get(name, env.get(name, INPUT)), skipped.get(name, env.get(name, INPUT)))
                   for name in taken.keys() | skipped.keys()}
        elif isinstance(statement, ast.Assign) and all(
            isinstance(target, ast.Name) and not target.id.startswith("_") for target in statement.targets
        ):
            bound = _cheap_expression(statement.value, env, budget)
            if bound is None:
                return None
            env = {**env, **{target.id: bound for target in statement.targets}}
        else:
            return None
    return env


def _cheap_expression(expression: ast.expr, env: dict[str, Bound], budget: _Budget) -> Bound | None:
    found = _binops_if_allowed(expression)
    if found is None:
        return None
    budget.binops -= found
    if budget.binops < 0:
        return None
    return size_bound(expression, env)


def _binops_if_allowed(tree: ast.AST) -> int | None:
    """The number of ``+`` / ``-`` in ``tree`` if every node is allowed, else None."""
    binops = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, (ast.Add, ast.Sub)):
                return None
            binops += 1
        elif not _node_allowed(node):
            return None
    return binops


def _node_allowed(node: ast.AST) -> bool:
    if isinstance(node, _LEAVES + _OPERATORS + _CONTAINERS):
        return True
    if isinstance(node, ast.Name):
        return not node.id.startswith("_")
    if isinstance(node, ast.Subscript):
        return _simple_index(node.slice) or _constant_slice(node.slice)
    if isinstance(node, _COMPREHENSIONS):
        return _linear_comprehension(node)
    if isinstance(node, ast.Attribute):
        # Only as the function of a call (checked in the Call branch): ``x.get(...)``.
        return node.attr in _CHEAP_METHODS
    if isinstance(node, ast.Call):
        if node.keywords:
            return False
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in _CHEAP_CALLS and (func.id not in _ONE_ARGUMENT or len(node.args) == 1)
        return isinstance(func, ast.Attribute) and func.attr in _CHEAP_METHODS
    return False


def _linear_comprehension(node) -> bool:
    """One ``for`` over an allowed expression; element and conditions see only its variable."""
    if len(node.generators) != 1:
        return False
    loop = node.generators[0]
    if loop.is_async or not isinstance(loop.target, ast.Name) or loop.target.id.startswith("_"):
        return False
    parts = [loop.iter, node.elt, *loop.ifs]
    if any(isinstance(inner, (*_COMPREHENSIONS, ast.GeneratorExp, ast.DictComp))
           for part in parts for inner in ast.walk(part)):
        return False
    called = {id(inner.func) for part in parts[1:] for inner in ast.walk(part) if isinstance(inner, ast.Call)}
    return all(
        inner.id == loop.target.id
        for part in parts[1:]
        for inner in ast.walk(part)
        if isinstance(inner, ast.Name) and id(inner) not in called
    )


def _constant_slice(index: ast.AST) -> bool:
    return isinstance(index, ast.Slice) and index.step is None and all(
        bound is None or _simple_index(bound) and not isinstance(bound, ast.Name)
        for bound in (index.lower, index.upper)
    )


def _simple_index(index: ast.AST) -> bool:
    if isinstance(index, (ast.Constant, ast.Name)):
        return True
    return (isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
            and isinstance(index.operand, ast.Constant))
