"""SpiffWorkflow 3.2's ``do_engine_steps`` with a faster search for the ready tasks.

``BpmnWorkflow._do_engine_steps`` looks for ready automatic tasks with
``wf.get_tasks(state=READY)`` several times per command, on the workflow and on every active
subprocess; that generic iterator (filters, depth bookkeeping, a ``list.pop(0)`` per task)
took a third of a replay's time, so of ``dsdt verify`` and of every command that loads a
dossier. :func:`ready_tasks` walks the same tree in the same order (depth first, a subprocess's
tree before the task's own children, descending only where the iterator does) with a plain
stack, and returns exactly the tasks it returns: ``tests/engine/test_engine_steps.py`` compares
the two on every state a campaign passes through. Past a depth of
:data:`DEPTH_LIMIT` it hands over to SpiffWorkflow's own iterator (which stops at 1,000 levels;
``engine.runtime.run_engine_steps`` handles what lies beyond).

:func:`install` binds the faster method to one workflow object (its class, and so the
serialized form, stay SpiffWorkflow's): :func:`engine.commands.new_state` and the state
serializer's ``loads`` call it on every workflow they make.
"""

from __future__ import annotations

import types

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

#: below SpiffWorkflow's iterator's own limit (1,000), whose bookkeeping can only count fewer levels
DEPTH_LIMIT = 900
_READY = TaskState.READY
_FUTURE = TaskState.FUTURE
_FINISHED = TaskState.FINISHED_MASK


class _TooDeep(Exception):
    pass


def _ready_tasks(wf) -> list:
    subprocesses = wf.top_workflow.subprocesses
    found = []
    stack = [(wf.task_tree, 0)]
    while stack:
        task, depth = stack.pop()
        if depth >= DEPTH_LIMIT:
            raise _TooDeep()
        state = task._state
        if state & _READY:
            found.append(task)
        subprocess = subprocesses.get(task.id)
        if (task._children or subprocess is not None) and (state >= _FUTURE or subprocess is not None):
            tasks = task.workflow.tasks
            below = [tasks.get(child) for child in task._children]
            # As BpmnTaskIterator: into a subprocess's tree first (its odd test of a finished
            # state is kept as it is: no single state is >= FINISHED_MASK).
            if subprocess is not None and not state >= _FINISHED:
                below.insert(0, subprocess.task_tree)
            stack.extend((child, depth + 1) for child in reversed(below))
    return found


def ready_tasks(wf) -> list:
    """``wf.get_tasks(state=TaskState.READY)``, faster (see the module's docstring)."""
    try:
        return _ready_tasks(wf)
    except _TooDeep:
        return wf.get_tasks(state=_READY)


def _do_engine_steps(self, will_complete_task=None, did_complete_task=None):
    """``BpmnWorkflow._do_engine_steps`` of SpiffWorkflow 3.2.0, with :func:`ready_tasks`."""

    def update_workflow(wf):
        count = 0
        for task in ready_tasks(wf):
            if not task.task_spec.manual:
                if will_complete_task is not None:
                    will_complete_task(task)
                task.run()
                count += 1
                if did_complete_task is not None:
                    did_complete_task(task)
        return count

    active_subprocesses = self.get_active_subprocesses()
    for subprocess in sorted(active_subprocesses, key=lambda v: v.depth, reverse=True):
        count = None
        while count is None or count > 0:
            count = update_workflow(subprocess)
        if subprocess.parent_task_id is not None:
            task = self.get_task_from_id(subprocess.parent_task_id)
            task.task_spec._update(task)

    count = update_workflow(self)
    return count > 0 or len(self.get_active_subprocesses()) > len(active_subprocesses)


def install(wf: BpmnWorkflow) -> BpmnWorkflow:
    """Give ``wf`` the faster engine steps; returns it."""
    wf._do_engine_steps = types.MethodType(_do_engine_steps, wf)
    return wf
