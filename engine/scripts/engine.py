"""The script engine SpiffWorkflow uses for every script, condition, timer and DMN cell.

``SandboxedScriptEngine`` replaces SpiffWorkflow's ``eval``/``exec`` on live task data.
SpiffWorkflow calls it two ways, and both are covered:

* ``script_engine.evaluate / execute / validate / call_service`` (tasks, gateways, timers, DMN);
* ``script_engine.environment.evaluate`` directly (process completion conditions, message
  correlations), hence ``SandboxedEnvironment``.

Cheap expressions (``fastpath.is_cheap``: a proof bounds their time and the size of what they
build, see ``bounds``) run in-process with RestrictedPython's guards, and their results are
checked (JSON-like, within the size budget); everything else runs in a ``SandboxPool`` worker,
under time and memory limits enforced from outside. Scripts see JSON-like data and ``HELPERS``,
never a task, workflow, engine or module. The engine is not serialized with a workflow: set it
again after every load (``workflow.script_engine = engine``).
"""

from __future__ import annotations

import ast
import copy
import re
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import restricted
from .errors import ScriptError, ScriptLimitExceeded
from .fastpath import is_cheap, is_cheap_script
from .helpers import HELPERS
from .sandbox import SandboxPool

__all__ = ["SandboxedEnvironment", "SandboxedScriptEngine", "make_plain_script_engine"]

_NAME_ERROR = re.compile(r"name '.+' is not defined")


class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow environment that never runs script text unguarded.

    Errors raised carry a ``line_number`` attribute (1-based line in the script, or None).
    """

    def __init__(self, pool: SandboxPool):
        super().__init__(dict(HELPERS))
        self.pool = pool

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Value of ``expression`` over ``context`` (task data) and ``external_context``."""
        if is_cheap(expression):
            try:
                value = restricted.run("eval", expression, context, external_context)
                restricted.check_json(value, "the result")
                return value
            except Exception as exc:
                exc.line_number = restricted.error_line_number(exc)  # type: ignore[attr-defined]
                raise
        return self.pool.run("eval", expression, context, external_context)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run ``script`` (in-process when provably cheap, else in the sandbox) and update ``context``
        in place with its result:
        assigned variables are set, deleted ones removed (SpiffWorkflow expects the same dict)."""
        if is_cheap_script(script):
            try:
                result = restricted.run("exec", script, context, external_context)
                assigned = {key: value for key, value in result.items() if context.get(key) is not value}
                # Checked before the copy: a value over the size budget is refused, not copied.
                restricted.check_json(assigned, "the script's data")
                # Values the script assigned are copied: no aliasing between task variables, as
                # after the sandbox's JSON round trip.
                result.update(copy.deepcopy(assigned))
            except Exception as exc:
                exc.line_number = restricted.error_line_number(exc)  # type: ignore[attr-defined]
                raise
        else:
            result = self.pool.run("exec", script, context, external_context)
        for key in [key for key in context if key not in result]:
            del context[key]
        context.update(result)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        """Service tasks are not part of this application's models."""
        raise NotImplementedError("service tasks are not supported: use a script task or a user task")


class SandboxedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine running process owners' code in a sandbox.

    :param pool: the ``SandboxPool`` that runs everything that is not a cheap expression.
    """

    def __init__(self, pool: SandboxPool):
        super().__init__(environment=SandboxedEnvironment(pool))
        self.pool = pool

    def validate(self, expression: str) -> None:
        """Raise ``SyntaxError`` (with a line number) if ``expression`` is not valid Python.

        Plain parsing, as SpiffWorkflow's DMN engine relies on: it calls ``validate('>= 3')``
        and expects a SyntaxError to decide how to build the comparison.
        """
        if not isinstance(expression, str) or len(expression) > restricted.MAX_SOURCE_LENGTH:
            raise SyntaxError("expression is missing or too long", (restricted.FILENAME, 1, None, None))
        ast.parse(expression, filename=restricted.FILENAME)

    def evaluate(self, task: Any, expression: str, external_context: dict | None = None) -> Any:
        """Evaluate ``expression`` against ``task.data``; failures raise ``WorkflowTaskException``."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except BaseException as err:  # noqa: B036 - scripts' SystemExit must not escape
            raise self._task_error(task, expression, err, "Error evaluating expression") from err

    def execute(self, task: Any, script: str, external_context: dict | None = None) -> bool:
        """Run ``script`` and update ``task.data`` in place; failures raise ``WorkflowTaskException``."""
        try:
            return self.environment.execute(script, task.data, external_context)
        except SpiffWorkflowException:
            raise
        except BaseException as err:  # noqa: B036
            raise self._task_error(task, script, err, "Error in script") from err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Refused with a WorkflowTaskException: service tasks are not supported."""
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err

    def _task_error(self, task: Any, source: str, err: BaseException, what: str) -> WorkflowTaskException:
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            # Raised in this process (Ctrl-C during a wait, shutdown): not by a script, whose
            # SystemExit arrives from the sandbox as a ScriptError.
            raise err
        line = getattr(err, "line_number", None)
        if line is None and isinstance(err, SyntaxError):
            line = err.lineno
        lines = source.splitlines() if isinstance(source, str) else []
        error_line = lines[line - 1] if line and 0 < line <= len(lines) else ""
        if isinstance(err, ScriptLimitExceeded):
            detail = f"{what}: {err}"
        elif isinstance(err, SyntaxError):
            detail = f"{what}: SyntaxError: {err.msg}"
        else:
            error_type = err.error_type if isinstance(err, ScriptError) else type(err).__name__
            message = str(err.args[0]) if err.args and not isinstance(err, ScriptError) else str(err)
            detail = f"{what}: {error_type}: {message}" if not message.startswith(error_type) \
                else f"{what}: {message}"
        if line:
            detail += f" (line {line}: {error_line.strip()!r})"
        if isinstance(err, NameError) and not _NAME_ERROR.match(str(err)):
            # SpiffWorkflow adds a "did you mean" note for NameErrors and crashes on the
            # None it computes when the message has another form ("__build_class__ not found").
            err = ScriptError(str(err), error_type="NameError", line_number=line)
        return WorkflowTaskException(detail, task=task, exception=err,
                                     line_number=line, error_line=error_line)


def make_plain_script_engine() -> PythonScriptEngine:
    """SpiffWorkflow's own unsandboxed engine with our helpers: the benchmark baseline only.

    Never use it for real models: it runs ``eval``/``exec`` on the engine's process.
    """
    return PythonScriptEngine(environment=TaskDataEnvironment(dict(HELPERS)))
