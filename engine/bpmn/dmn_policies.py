"""DMN hit policies, enforced as the DMN standard defines them.

SpiffWorkflow 3.2's ``DMNEngine`` knows only UNIQUE and COLLECT, and UNIQUE stops at the first
matching rule: a table with two matches silently takes the first, a guess. Every other policy
takes the first match too (right for FIRST, wrong for ANY, PRIORITY, RULE ORDER, OUTPUT ORDER),
and COLLECT ignores an aggregation (SUM, COUNT, MIN, MAX).

:class:`PolicedDMNEngine` is what the parser gives business rule tasks (through its
``get_engine``, see :mod:`.parser`): it finds every matching rule with SpiffWorkflow's own rule
matching, then applies the declared policy:

- UNIQUE: at most one rule may match; two or more is an error naming the decision and the rows;
- FIRST: the first matching rule, in table order;
- ANY: the matching rules must all give the same outputs, else an error naming the rows;
- COLLECT (no aggregation): each output becomes the list of the matching rules' values.

:func:`check_policy` refuses at deploy every other policy and COLLECT with an aggregation, naming
the file and decision: it would run, but not as the table says.
"""

from __future__ import annotations

import copy

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

__all__ = ["SUPPORTED", "PolicedDMNEngine", "check_policy"]

SUPPORTED = ("UNIQUE", "FIRST", "ANY", "COLLECT")


def _table_node(dmn_parser, table_id: str):
    for element in dmn_parser.node.iter():
        if isinstance(element.tag, str) and element.tag.endswith("}decisionTable") and element.get("id") == table_id:
            return element
    return dmn_parser.node


def check_policy(dmn_parser, table) -> None:
    """Refuse a hit policy the engine cannot run as declared (``dmn_parser``: SpiffWorkflow's)."""
    node = _table_node(dmn_parser, table.id)
    decision = dmn_parser.decision.id
    if table.hit_policy not in SUPPORTED:
        raise ValidationException(
            f"Decision {decision}: hit policy {table.hit_policy} is not supported; use one of "
            f"{', '.join(SUPPORTED)} (FIRST takes the first matching rule in table order)",
            node=node, file_name=dmn_parser.filename)
    aggregation = node.get("aggregation")
    if aggregation:
        raise ValidationException(
            f"Decision {decision}: COLLECT with aggregation {aggregation} is not supported; collect the "
            "values (no aggregation) and compute the total in a script task",
            node=node, file_name=dmn_parser.filename)


def _rows(rules) -> str:
    return ", ".join(f"{rule.id} (row {rule.row_number})" for rule in rules)


class PolicedDMNEngine(DMNEngine):
    """SpiffWorkflow's DMN engine with the hit policy enforced (see the module docstring)."""

    def __init__(self, decision_table, decision_id: str):
        super().__init__(decision_table)
        self.decision_id = decision_id
        # SpiffWorkflow's decide() returns every matching rule unless the policy is UNIQUE (where
        # it stops at the first): a copy of the table declared FIRST lists every match, found by
        # SpiffWorkflow's own rule matching, for this class to apply the real policy.
        every = copy.copy(decision_table)
        every.hit_policy = "FIRST"
        self._matcher = DMNEngine(every)

    def decide(self, task):
        return self._matcher.decide(task)

    def result(self, task):
        policy = self.decision_table.hit_policy
        matched = self.decide(task)
        if policy == "COLLECT":
            collected: dict = {}
            for rule in matched:
                for key, value in rule.output_as_dict(task).items():
                    collected.setdefault(key, []).append(value)
            return collected
        if not matched:
            return {}
        if policy == "UNIQUE" and len(matched) > 1:
            raise WorkflowTaskException(
                f"Decision {self.decision_id} (hit policy UNIQUE): rules {_rows(matched)} all match; a UNIQUE "
                "table must match at most one rule: fix their conditions, or declare the hit policy FIRST "
                "if the first rule should win", task=task)
        first = matched[0].output_as_dict(task)
        if policy == "ANY":
            differing = [rule for rule in matched[1:] if rule.output_as_dict(task) != first]
            if differing:
                raise WorkflowTaskException(
                    f"Decision {self.decision_id} (hit policy ANY): rules {_rows([matched[0], *differing])} match "
                    "with different outputs; ANY allows several matches only when they agree: fix their "
                    "conditions or outputs", task=task)
        return first
