"""Hashes of an instance's state that replay can reproduce.

:func:`visible_fingerprint` is journaled with every command: it covers what the command left for
people to see and act on (the open tasks, the dossier's current data, claims, pending deadlines,
whether the process ended), and costs a few microseconds. :func:`state_fingerprint` covers the
whole serialized workflow; replay uses it to prove a stored state is the one its journal leads to.

SpiffWorkflow gives tasks random UUIDs and stamps wall-clock ``last_state_change`` times, so two
runs of the same commands never serialize byte for byte alike. The fingerprint hashes a view of
the serialized state in which each task id is replaced by its position (task dicts keep creation
order, which replay reproduces) and timestamps are left out. Everything else is covered: task
specs, states, parent/children links, data, internal data (timer dates), subprocesses, pending
events, and ``extra`` (the claims).
"""

from __future__ import annotations

import hashlib
import re

import orjson

from . import runtime

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The options the serializer pre-encodes data with: a stored state (plain dicts) and a live one
# (pre-encoded fragments) must hash alike.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def visible_fingerprint(seen: runtime.Visible, claims: dict) -> str:
    """sha256 of what an instance shows after a command (see :func:`engine.runtime.visible`)."""
    view = [
        seen.finished,
        [[human.ref, human.bpmn_id, human.assignee] for human in seen.ready],
        seen.data,
        claims,
        [[ref, due] for ref, due in seen.timers],
    ]
    return hashlib.sha256(orjson.dumps(view, option=_OPTIONS, default=str)).hexdigest()


def state_fingerprint(state: dict, extra: dict | None = None) -> str:
    """sha256 of the canonical view of ``state`` (a serializer ``to_dict`` result) and ``extra``."""
    ids: dict[str, int] = {}

    def position(task_id: str | None) -> int:
        return -1 if task_id is None else ids.setdefault(task_id, len(ids))

    def ids_in(value):
        # Internal data names tasks too (a multi-instance task lists the children it merged).
        if isinstance(value, str):
            return f"#{position(value)}" if _UUID.fullmatch(value) else value
        if isinstance(value, list):
            return [ids_in(item) for item in value]
        if isinstance(value, dict):
            return {key: ids_in(item) for key, item in value.items()}
        return value

    def workflow_view(workflow: dict) -> list:
        return [
            workflow.get("data"),
            workflow.get("correlations"),
            workflow.get("success"),
            workflow.get("completed"),
            [
                [
                    task["task_spec"],
                    task["state"],
                    task["triggered"],
                    position(task["id"]),
                    position(task["parent"]),
                    [position(child) for child in task["children"]],
                    ids_in(task["internal_data"]),
                    task.get("data"),
                    task.get("delta"),
                ]
                for task in workflow["tasks"].values()
            ],
        ]

    view = [workflow_view(state)]
    # Subprocesses in the order of their call activity task, not of the dict: a restored workflow
    # rebuilds that dict in task order, a live one keeps creation order.
    pending = dict(state.get("subprocesses", {}))
    while pending:
        ready = sorted((ids[parent], parent) for parent in pending if parent in ids)
        if not ready:  # orphans cannot happen in a sound state; hash them rather than loop
            ready = [(-1, parent) for parent in sorted(pending)]
        for rank, parent in ready:
            view.append([rank, workflow_view(pending.pop(parent))])
    view += [state.get("bpmn_events"), extra or {}]
    return hashlib.sha256(orjson.dumps(view, option=_OPTIONS)).hexdigest()
