"""The code in DMN decision tables, as SpiffWorkflow's DMN engine will run it.

A decision table's cells are not whole expressions: SpiffWorkflow's ``DMNEngine.evaluate``
joins an input entry to its column's input expression (``note_moyenne`` and ``>= 3`` become
``note_moyenne>= 3``; ``"x"`` becomes ``(choix) == ("x")``; ``4 < ? < 6`` evaluates the input
and the entry separately). To compile at deploy exactly what will run, the entries are passed
through ``DMNEngine.evaluate`` itself with a recording script engine that runs nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from types import SimpleNamespace

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

__all__ = ["cell_code", "decision_sources"]


class _Recorder:
    """A script engine that records the expressions it is given and runs none of them."""

    def __init__(self):
        self.sources: list[str] = []

    def validate(self, expression: str) -> None:
        ast.parse(expression)  # as SandboxedScriptEngine.validate: DMNEngine decides on its SyntaxError

    def evaluate(self, task, expression: str, external_context: dict | None = None) -> bool:
        self.sources.append(expression)
        return True


def decision_sources(parser) -> dict[str, tuple[str | None, str]]:
    """Decision table id → (DMN file, decision id), for the errors' messages."""
    found = {}
    for dmn_parser in parser.dmn_parsers.values():
        if dmn_parser.decision is not None:
            for table in dmn_parser.decision.decisionTables:
                found[table.id] = (dmn_parser.filename, dmn_parser.decision.id)
    return found


def cell_code(table) -> Iterator[tuple[str, str, str]]:
    """``(cell id, description, source)`` of every expression the table evaluates (mode "eval").

    An entry from which SpiffWorkflow cannot build an expression yields its own text, which
    does not compile either, so the deploy reports it like any other syntax error.
    """
    for column in table.inputs:
        if column.expression:
            yield column.id, f"input expression {column.expression!r:.120}", column.expression
    for rule in table.rules:
        where = f"rule {rule.id} (row {rule.row_number})"
        for entry in rule.inputEntries:
            for text in entry.lhs:
                if text is None:
                    continue  # '-': any value
                what = f"{where}, input entry {text!r:.120}"
                for source in _joined(entry.input.expression, text):
                    yield entry.id, what, source
        for entry in rule.outputEntries:
            if entry.text:
                yield entry.id, f"{where}, output entry {entry.text!r:.120}", entry.text


def _joined(input_expression: str | None, text: str) -> list[str]:
    recorder = _Recorder()
    task = SimpleNamespace(data={}, workflow=SimpleNamespace(script_engine=recorder))
    # Without an input expression SpiffWorkflow compares with the label's value, a data repr.
    try:
        DMNEngine(decision_table=None).evaluate(input_expression or "None", text, task)
    except SyntaxError:
        return [text]
    return recorder.sources
