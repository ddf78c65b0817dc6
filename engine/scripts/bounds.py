"""A proof that an in-process expression or script builds nothing much larger than its input.

``fastpath`` decides which code may run in the engine's own process, where no outside limit
can stop it. Allowing only operations that are linear in their operands is not enough: a
loop-free sequence of assignments (``a = x + x`` then ``b = a + a``...) doubles a value at each
line, and ``[b, b]`` builds a value whose JSON expansion doubles too. So every expression gets
an upper bound of the size of what it builds, as a linear form of ``D``, the size of the input
(task data plus external context)::

    size <= growth * D + constant

A name the script did not assign is part of the input (``D``); a constant counts its text;
``a + b`` and ``[a, b]`` add their operands' bounds; a part (``x["k"]``, ``x[1:3]``,
``x.get(k)``) is no larger than its whole; ``str(x)`` at most ten times ``x`` (escapes); a
comprehension at most ``3 * growth + constant + 1`` times what it iterates (each element of the
iterable, even a one-character string, is at least a third of its share of the iterable).
Branches of an ``if`` keep the larger bound. Code whose bound, or the bound of any part of it,
exceeds :data:`MAX_GROWTH` or :data:`MAX_CONSTANT` does not take the fast path: it goes to the
sandbox, whose limits hold whatever it builds.

Sizes are abstract (characters of a JSON-like rendering); what matters is that each real
operation costs time and memory linear in them, so a bounded growth means bounded work.
"""

from __future__ import annotations

import ast

__all__ = ["INPUT", "MAX_CONSTANT", "MAX_GROWTH", "Bound", "join", "size_bound"]

Bound = tuple[float, float]
"""``(growth, constant)``: the size is at most ``growth * D + constant``."""

INPUT: Bound = (1, 0)
"""The bound of a value read from the input."""

MAX_GROWTH = 16
"""In-process code builds at most this many times the size of its input..."""

MAX_CONSTANT = 100_000
"""... plus this many characters (a script text is at most 4,000 characters)."""

# Results of the builtins and helpers the fast path allows: (multiplier of the arguments' sum,
# constant). len/bool return a small int; abs/int/float keep a number's digits, int(1e308)
# has 309; sum adds numbers (a few digits more); str may escape a character as ten.
_CALLS: dict[str, tuple[float, float]] = {
    "len": (0, 20), "bool": (0, 5), "abs": (1, 330), "int": (1, 330), "float": (1, 330),
    "sum": (1, 30), "str": (10, 40), "sorted": (4, 2),
    # helpers: a date string, a float, a rounded number (round(1e308) has 309 digits)
    "fin_de_journee": (0, 64), "moyenne": (0, 30), "arrondi": (1, 400),
}
_JOIN_CALLS = frozenset({"min", "max"})  # one of the arguments, or an element of the one argument


def join(first: Bound, second: Bound) -> Bound:
    """A bound of a value that is one of two values (``a or b``, ``a if c else b``, branches)."""
    return max(first[0], second[0]), max(first[1], second[1])


def _add(*bounds: Bound) -> Bound:
    return sum(bound[0] for bound in bounds), sum(bound[1] for bound in bounds)


def _scale(bound: Bound, factor: float) -> Bound:
    return bound[0] * factor, bound[1] * factor


def within(bound: Bound) -> bool:
    """True if ``bound`` is within the fast path's budget."""
    return bound[0] <= MAX_GROWTH and bound[1] <= MAX_CONSTANT


def size_bound(node: ast.AST, env: dict[str, Bound]) -> Bound | None:
    """The bound of what ``node`` evaluates to, ``env`` holding the bounds of names the script
    assigned; None if it, or any part of it, exceeds the budget or is not understood."""
    try:
        bound = _bound(node, env)
    except (_OverBudget, RecursionError, ValueError):
        return None
    return bound


class _OverBudget(Exception):
    pass


def _bound(node: ast.AST, env: dict[str, Bound]) -> Bound:
    bound = _compute(node, env)
    if not within(bound):
        raise _OverBudget  # a part over the budget is built even if the whole is small (len(...))
    return bound


def _compute(node: ast.AST, env: dict[str, Bound]) -> Bound:
    if isinstance(node, ast.Expression):
        return _bound(node.body, env)
    if isinstance(node, ast.Constant):
        return 0, len(repr(node.value)) + 2
    if isinstance(node, ast.Name):
        return env.get(node.id, INPUT)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return _add((0, len(node.elts) + 2), *(_bound(item, env) for item in node.elts))
    if isinstance(node, ast.Dict):
        parts = [_bound(part, env) for part in (*node.keys, *node.values) if part is not None]
        return _add((0, 2 * len(node.values) + 2), *parts)
    if isinstance(node, ast.BinOp):
        return _add((0, 1), _bound(node.left, env), _bound(node.right, env))
    if isinstance(node, ast.BoolOp):
        bounds = [_bound(value, env) for value in node.values]
        result = bounds[0]
        for bound in bounds[1:]:
            result = join(result, bound)
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _bound(node.operand, env)
        return (0, 5) if isinstance(node.op, ast.Not) else _add(operand, (0, 1))
    if isinstance(node, ast.Compare):
        for part in (node.left, *node.comparators):
            _bound(part, env)
        return 0, 5
    if isinstance(node, ast.IfExp):
        _bound(node.test, env)
        return join(_bound(node.body, env), _bound(node.orelse, env))
    if isinstance(node, ast.Subscript):
        _bound(node.slice, env)
        return _bound(node.value, env)  # a part is no larger than its whole
    if isinstance(node, ast.Slice):
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                _bound(part, env)
        return 0, 0
    if isinstance(node, ast.Call):
        return _call(node, env)
    if isinstance(node, (ast.ListComp, ast.SetComp)):
        return _comprehension(node, env)
    raise _OverBudget  # not a node the fast path allows


def _call(node: ast.Call, env: dict[str, Bound]) -> Bound:
    args = [_bound(arg, env) for arg in node.args]
    func = node.func
    if isinstance(func, ast.Attribute):  # x.get(key, default): a part of x, or the default
        result = _bound(func.value, env)
        return join(result, args[1]) if len(args) > 1 else result
    if not isinstance(func, ast.Name):
        raise _OverBudget
    if func.id in _JOIN_CALLS:
        result = args[0] if args else (0, 0)
        for bound in args[1:]:
            result = join(result, bound)
        return result
    if func.id not in _CALLS:
        raise _OverBudget
    factor, constant = _CALLS[func.id]
    return _add((0, constant), _scale(_add((0, 0), *args), factor))


def _comprehension(node: ast.ListComp | ast.SetComp, env: dict[str, Bound]) -> Bound:
    loop = node.generators[0]
    iterated = _bound(loop.iter, env)
    # The element and conditions see only the loop variable (fastpath checks it): bound the
    # element in units of that variable's size, then sum over the elements.
    inner = {loop.target.id: INPUT} if isinstance(loop.target, ast.Name) else {}
    for condition in loop.ifs:
        _compute(condition, inner)
    growth, constant = _compute(node.elt, inner)
    return _add((0, 2), _scale(iterated, 3 * growth + constant + 1))
