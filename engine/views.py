"""Read-only views of engine state handed to callers (the web app, the simulator)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from .runtime import HumanTask


@dataclass(frozen=True)
class TaskView:
    """An open human task: what it is, who may do it, its form, and the data it sees."""

    ref: str
    bpmn_id: str
    name: str
    role: str
    assignee: str | None
    claimed_by: str | None
    form: str
    ui_form: str | None
    form_variable: str
    instructions: str | None
    data: dict

    @classmethod
    def of(cls, human: HumanTask, claimed_by: str | None) -> TaskView:
        return cls(
            ref=human.ref,
            bpmn_id=human.bpmn_id,
            name=human.name,
            role=human.role,
            assignee=human.assignee,
            claimed_by=claimed_by,
            form=human.form,
            ui_form=human.ui_form,
            form_variable=human.form_variable,
            instructions=human.instructions,
            data=copy.deepcopy(human.task.data),
        )
