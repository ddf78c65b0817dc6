"""Deploy checks of a model against its declared contract (:mod:`engine.contract`).

The contract names what the application reads from the model; these checks make sure the
diagrams hold it, so a step renamed in the modeler and not in ``contract.json`` (or the reverse)
is refused at deploy, naming what is missing, instead of silently emptying an inbox or a page:

- the main process is a process of the files (checked before SpiffWorkflow looks it up);
- every porteur step is a user task in the porteur's lane, and every user task of that lane is a
  porteur step;
- every jury step is a user task, and its form has the conflict-of-interest field;
- some event of the model catches the withdrawal message;
- every data field the contract names is written by the model: the start data, a user task's form
  variable, a script's assignment, a decision table's output, a message or signal variable, or a
  multi-instance output.
"""

from __future__ import annotations

import ast

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from ..contract import CONTRACT_FILE, FIELD_ROLES, Contract
from ..errors import Invalid
from ..roles import PORTEUR, role_for_lane
from .checks import event_definitions

__all__ = ["check_contract", "check_main_process", "contract_problems"]


def _refuse(detail: str, bpmn_id: str | None = None) -> Invalid:
    message = f"{CONTRACT_FILE}: {detail}"
    return Invalid(f"The model does not hold its contract: {message}. Fix the diagram or the contract "
                   "(processes/README.md, \"Contract\"), then deploy again.",
                   code="model.invalid", params={"detail": message}, file=CONTRACT_FILE, bpmn_id=bpmn_id)


def check_main_process(contract: Contract, process_ids) -> None:
    """Refuse a contract whose main process none of the BPMN files defines."""
    if contract.main_process not in process_ids:
        raise _refuse(f"main_process {contract.main_process!r} is not a process of the BPMN files "
                      f"(they define {', '.join(sorted(process_ids)) or 'none'})")


def _specs(models):
    for process in [models.spec, *models.subprocess_specs.values()]:
        yield from process.task_specs.values()


def _assigned(script: str) -> set[str]:
    tree = ast.parse(script)  # a SyntaxError: see written_fields
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def written_fields(models, contract: Contract) -> set[str] | None:
    """Every top-level data field the model (or its start data) may write; None when a script does
    not parse, so what it writes is unknown (the deploy then refuses it naming its line)."""
    found = set(contract.initial) | {name for name in contract.start_fields.values() if name}
    for spec in _specs(models):
        if isinstance(spec, UserTask):
            props = (spec.extensions or {}).get("properties", {})
            found.add(props.get("formDataVariable") or spec.bpmn_id)
        if isinstance(spec, ScriptTask) and spec.script:
            try:
                found |= _assigned(spec.script)
            except SyntaxError:
                return None
        if isinstance(spec, MultiInstanceTask) and spec.data_output is not None:
            found.add(spec.data_output.bpmn_id)
        table = getattr(getattr(spec, "dmnEngine", None), "decision_table", None)
        if table is not None:
            found |= {(output.name or output.label or "").split(".")[0] for output in table.outputs}
        for definition in event_definitions(spec):
            found |= {getattr(definition, attr, None) for attr in ("message_var", "variable")} - {None}
    return found


def _user_task(models, bpmn_id: str, what: str):
    spec = models.user_tasks.get(bpmn_id)
    if spec is None:
        raise _refuse(f"{what} {bpmn_id!r} is not a user task of the model (user tasks: "
                      f"{', '.join(sorted(models.user_tasks))})", bpmn_id)
    return spec


def _check_steps(models, contract: Contract):
    for bpmn_id in sorted(contract.porteur_steps):
        try:
            spec = _user_task(models, bpmn_id, "porteur step")
        except Invalid as problem:
            yield problem
            continue
        if role_for_lane(spec.lane) != PORTEUR:
            yield _refuse(f"porteur step {bpmn_id!r} sits in the lane {spec.lane!r}, not the porteur's", bpmn_id)
    for bpmn_id, spec in sorted(models.user_tasks.items()):
        if role_for_lane(spec.lane) == PORTEUR and bpmn_id not in contract.porteur_steps:
            yield _refuse(f"user task {bpmn_id!r} sits in the porteur's lane but is not in porteur_steps", bpmn_id)
    jury = contract.jury
    for bpmn_id in sorted(contract.jury_steps):
        try:
            spec = _user_task(models, bpmn_id, "jury step")
        except Invalid as problem:
            yield problem
            continue
        form = (spec.extensions or {}).get("properties", {}).get("formJsonSchemaFilename")
        fields = (models.forms.get(form) or {}).get("properties", {})
        if jury.conflict_field and jury.conflict_field not in fields:
            yield _refuse(f"jury step {bpmn_id!r}: its form {form} has no field {jury.conflict_field!r} "
                          "(jury.conflict_field)", bpmn_id)


def _check_withdrawal(models, contract: Contract):
    if contract.withdrawal is None:
        return
    message = contract.withdrawal.message
    if not any(isinstance(definition, MessageEventDefinition) and definition.name == message
               for spec in _specs(models) for definition in event_definitions(spec)):
        yield _refuse(f"no event of the model catches the withdrawal message {message!r} (withdrawal.message)")


def contract_problems(models, contract: Contract):
    """Each way ``models`` break ``contract``, as an :class:`Invalid` naming what is missing."""
    yield from _check_steps(models, contract)
    yield from _check_withdrawal(models, contract)
    written = written_fields(models, contract)
    if written is None:
        return  # compile_model_code refuses the script that does not parse, naming its line
    for role in FIELD_ROLES:
        name = contract.fields.get(role)
        if name and name not in written:
            yield _refuse(f"fields.{role} names the data field {name!r}, which nothing in the model writes "
                          "(no form variable, script assignment, decision output, message variable or start data)")


def check_contract(models, contract: Contract) -> None:
    """Refuse ``models`` if they do not hold ``contract``, naming the first thing missing."""
    for problem in contract_problems(models, contract):
        raise problem
