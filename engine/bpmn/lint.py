"""Every reason a set of model files cannot be deployed, all at once (``dsdt lint``, the modeler).

Deploy stops at the first refusal (:func:`engine.bpmn.parser.parse_models`); a process owner
editing a draft wants them all, each on its element. :func:`lint_files` runs the same checks as
deploy on ``files`` (keyed like a deployment: ``processes/x.bpmn``, ``forms/x.schema.json``,
``processes/contract.json``) and returns a :class:`Problem` per finding, in this order:

``file-count``, ``file-size``, ``file-type``
    the bounds of a draft (:mod:`engine.model_drafts`) and the kinds of file a model holds;
``xml``
    malformed XML, or a DOCTYPE (entities, external files, billion laughs: never read);
``parser``
    what SpiffWorkflow's parser refuses, with its element and line;
``form-json``, ``form-schema``, ``form-bounds``
    a form that is not JSON, not a JSON Schema (or its UI schema not an object), or leaves a
    field unbounded;
``contract``
    ``contract.json`` missing, malformed, or not held by the diagrams;
``call-unresolved``, ``decision-unresolved``
    a call activity or business rule task naming a process or decision no file defines;
``lane-role``, ``form-reference``
    lanes are known roles (:mod:`engine.roles`), user tasks sit in one and name forms that exist;
``construct``
    what the engine would run wrongly (:mod:`.checks`);
``script``
    a script, condition, timer expression or DMN cell that does not compile under the script
    restrictions, or imports a module (scripts use the helpers they are given, never modules);
``timer``
    a timer whose value is written in the diagram and is not a date or duration the engine
    accepts within its horizon (an expression reading data is checked when it runs).

Later stages need earlier ones: when a file does not parse, the specs are not built and the
rules that read them are not run (the problems found so far are returned).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException

from ..contract import CONTRACT_FILE, parse_contract
from ..errors import Invalid
from ..forms import check_bounds
from ..model_drafts import MAX_DRAFT_BYTES, MAX_FILE_BYTES, MAX_FILES
from ..scripts.restricted import compile_script
from .checks import timers_drawn
from .parser import (
    DsdtBpmnParser,
    _all_task_specs,
    _invalid_from_spiff,
    _parse_xml,
    build_models,
    model_code,
    model_problems,
    script_imports,
)
from .timers import ClockedTimeDateEventDefinition, TimerValueError, due_after, due_date

__all__ = ["Problem", "lint_files"]

_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
#: most problems reported for one file set: a broken file set can name many, a page shows these.
MAX_PROBLEMS = 500


@dataclass(frozen=True)
class Problem:
    """One reason the files cannot be deployed: where (file, element, line), which rule, and the
    message as an error code with its params (translated by the web layer) and in English."""

    file: str | None
    element_id: str | None
    rule: str
    code: str
    message: str
    params: dict = field(default_factory=dict)
    line: int | None = None

    def as_text(self) -> str:
        where = ":".join(str(part) for part in (self.file or "-", self.line) if part)
        return f"{where}: {self.element_id or '-'}: [{self.rule}] {self.message}"

    def as_json(self) -> dict:
        return {"file": self.file, "element_id": self.element_id, "line": self.line, "rule": self.rule,
                "code": self.code, "params": self.params, "message": self.message}


def _from_error(rule: str, err: Invalid, file: str | None = None) -> Problem:
    """``err`` as a problem; ``file`` (the file checked) when ``err`` names none or only its base name."""
    params = dict(err.params) if err.code != "invalid" else {"detail": err.message}
    code = err.code if err.code != "invalid" else "model.invalid"
    where = file if file and (not err.file or file.endswith("/" + err.file)) else err.file or file
    return Problem(where, err.bpmn_id, rule, code, str(err.message), params, err.line)


def _problem(rule: str, file: str | None, element_id: str | None, message: str, line: int | None = None) -> Problem:
    detail = f"{file}: {element_id}: {message}" if element_id else f"{file}: {message}"
    return Problem(file, element_id, rule, "model.invalid", message, {"detail": detail}, line)


def _bounds(files: dict[str, bytes], out: list[Problem]) -> set[str]:
    """The files too large to read (their problems added to ``out``)."""
    if len(files) > MAX_FILES:
        out.append(_problem("file-count", None, None, f"{len(files)} files; a model holds at most {MAX_FILES}"))
    too_large = set()
    for name, data in sorted(files.items()):
        if len(data) > MAX_FILE_BYTES:
            too_large.add(name)
            out.append(Problem(name, None, "file-size", "model_draft.file_too_large",
                               f"{len(data)} bytes; a file is at most {MAX_FILE_BYTES // 1024} KiB",
                               {"path": name, "limit_kib": MAX_FILE_BYTES // 1024}))
        elif not name.endswith((".bpmn", ".dmn", ".json")):
            too_large.add(name)
            out.append(_problem("file-type", name, None, "not a model file: .bpmn, .dmn or .json (forms, contract)"))
    if sum(len(data) for data in files.values()) > MAX_DRAFT_BYTES:
        out.append(Problem(None, None, "file-size", "model_draft.too_large",
                           f"the files make more than {MAX_DRAFT_BYTES // 1024} KiB together",
                           {"limit_kib": MAX_DRAFT_BYTES // 1024}))
    return too_large


def _form(name: str, data: bytes, forms: dict, out: list[Problem]) -> None:
    forms[name.rsplit("/", 1)[-1]] = {}  # found, if broken: the tasks naming it are not blamed too
    try:
        document = json.loads(data)
    except ValueError as err:
        out.append(_problem("form-json", name, None, f"not JSON: {err}"))
        return
    if not isinstance(document, dict):
        kind = type(document).__name__
        out.append(_problem("form-schema", name, None, f"a form file holds a JSON object, not {kind}"))
        return
    forms[name.rsplit("/", 1)[-1]] = document
    if name.endswith(".schema.json"):
        try:
            Draft202012Validator.check_schema(document)
        except SchemaError as err:
            out.append(_problem("form-schema", name, None, f"not a valid JSON Schema: {err.message}"))
            return
        if document.get("type", "object") != "object":
            out.append(_problem("form-schema", name, None, "a form's schema describes an object (type: object)"))
            return
        try:
            check_bounds({name.rsplit("/", 1)[-1]: document})
        except Invalid as err:
            out.append(_from_error("form-bounds", err, name))
    elif name.endswith(".uischema.json"):
        bad = sorted(key for key, value in document.items()
                     if not key.startswith("ui:") and not isinstance(value, dict))
        if bad:
            out.append(_problem("form-schema", name, None,
                                f"a UI schema maps each field to an object: {', '.join(bad)}"))


def _read_files(files: dict[str, bytes], skip: set[str], out: list[Problem]):
    """(parser holding the diagrams and tables that parse, forms, contract or None, XML trees)."""
    parser, forms, trees, contract = DsdtBpmnParser(), {}, {}, None
    for name in sorted(set(files) - skip):
        data = files[name]
        if name == CONTRACT_FILE:
            try:
                contract = parse_contract(data)
            except Invalid as err:
                out.append(_from_error("contract", err, name))
            continue
        if name.endswith(".json"):
            if name.startswith("forms/"):
                _form(name, data, forms, out)
            continue
        try:
            xml = _parse_xml(name, data)
        except Invalid as err:
            out.append(_from_error("xml", err, name))
            continue
        try:
            (parser.add_bpmn_xml if name.endswith(".bpmn") else parser.add_dmn_xml)(xml, filename=name)
        except SpiffWorkflowException as err:
            out.append(_from_error("parser", _invalid_from_spiff(err, name), name))
            continue
        except Exception as err:  # SpiffWorkflow raises plain errors for some broken files
            out.append(_problem("parser", name, None, str(err)[:500]))
            continue
        trees[name] = xml
    if CONTRACT_FILE not in files:
        out.append(_problem("contract", CONTRACT_FILE, None, "the contract is missing: the model must declare its "
                            "main process, data fields, porteur and jury steps (processes/README.md, \"Contract\")"))
    return parser, forms, contract, trees


def _references(parser, trees: dict, contract, out: list[Problem]) -> None:
    processes, decisions = set(parser.process_parsers), set(parser.dmn_parsers)
    if contract is not None and contract.main_process not in processes:
        out.append(_problem("contract", CONTRACT_FILE, None, f"main_process {contract.main_process!r} is not a "
                            f"process of the BPMN files (they define {', '.join(sorted(processes)) or 'none'})"))
    for name, xml in sorted(trees.items()):
        for node in xml.iter(f"{{{_BPMN_NS}}}callActivity"):
            called = node.get("calledElement")
            if called not in processes:
                out.append(_problem("call-unresolved", name, node.get("id"),
                                    f"calls the process {called!r}, which no BPMN file defines", node.sourceline))
        for node in xml.iter(f"{{{_BPMN_NS}}}businessRuleTask"):
            ref = node.find(f".//{{{_SPIFF_NS}}}calledDecisionId")
            called = (ref.text or "").strip() if ref is not None else None
            if called not in decisions:
                out.append(_problem("decision-unresolved", name, node.get("id"),
                                    f"calls the decision {called!r}, which no DMN file defines", node.sourceline))


def _code(models, out: list[Problem]) -> None:
    for code in model_code(models):
        line = script_imports(code.source) if code.mode == "exec" else None
        if line is not None:
            out.append(Problem(code.file, code.bpmn_id, "script", "model.script_invalid",
                               "a script may not import modules: use the helper functions it is given",
                               {"detail": "import"}, line))
            continue
        try:
            compile_script(code.source, code.mode)
        except (SyntaxError, TypeError) as err:
            detail = str(getattr(err, "msg", None) or err) + (f" ({code.what})" if code.what else "")
            out.append(Problem(code.file, code.bpmn_id, "script", "model.script_invalid", detail,
                               {"detail": detail}, getattr(err, "lineno", None)))


def _timers(models, now: datetime, out: list[Problem]) -> None:
    for process, spec in _all_task_specs(models):
        if not isinstance(spec, CatchingEvent):
            continue
        for bpmn_id, definition in timers_drawn(spec):
            try:
                value = ast.literal_eval(definition.expression.strip())
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue  # reads data: compiled above, its value checked when it runs
            try:
                (due_date if isinstance(definition, ClockedTimeDateEventDefinition) else due_after)(value, now)
            except TimerValueError as err:
                out.append(_problem("timer", getattr(process, "file", None), bpmn_id, str(err)))


def lint_files(files: dict[str, bytes], now: datetime | None = None) -> list[Problem]:
    """Every :class:`Problem` deploy would refuse in ``files`` (see the module docstring); empty
    when they can be deployed. ``now``: the instant timers are measured from (default: now)."""
    out: list[Problem] = []
    skip = _bounds(files, out)
    parser, forms, contract, trees = _read_files(files, skip, out)
    if contract is None or any(p.rule in ("xml", "parser") for p in out):
        return out[:MAX_PROBLEMS]
    before = len(out)
    _references(parser, trees, contract, out)
    if len(out) > before:
        return out[:MAX_PROBLEMS]
    try:
        models = build_models(parser, contract, forms)
    except Invalid as err:
        out.append(_from_error("parser", err))
        return out[:MAX_PROBLEMS]
    out.extend(_from_error(rule, err) for rule, err in model_problems(models))
    _code(models, out)
    _timers(models, now or datetime.now(UTC), out)
    return out[:MAX_PROBLEMS]
