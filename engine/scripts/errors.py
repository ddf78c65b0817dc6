"""Errors raised by the script sandbox.

The tree::

    ScriptError                 a script, condition or expression failed
    ├── ScriptDataError         data crossing the sandbox boundary is not JSON-like
    └── ScriptLimitExceeded     a resource limit stopped the script
        ├── ScriptTimeout       it ran longer than the wall-clock limit
        ├── ScriptMemoryError   it needed more memory than allowed
        └── ScriptBusy          no sandbox worker became free in time: it did not run

``SandboxedScriptEngine`` wraps all of them in SpiffWorkflow's ``WorkflowTaskException`` (with
the task, line number and offending line), which the engine then reports as ``ScriptFailed``.
"""

from __future__ import annotations

__all__ = ["ScriptBusy", "ScriptDataError", "ScriptError", "ScriptLimitExceeded", "ScriptMemoryError", "ScriptTimeout"]


class ScriptError(Exception):
    """A script failed. ``error_type`` names the original exception (``"KeyError"``),
    ``line_number`` is the 1-based line in the script, or ``None`` when unknown."""

    def __init__(self, message: str, *, error_type: str | None = None, line_number: int | None = None):
        super().__init__(message)
        self.error_type = error_type or type(self).__name__
        self.line_number = line_number


class ScriptDataError(ScriptError, TypeError):
    """A value given to or produced by a script is not JSON-like data
    (dict with str keys, list, str, int, finite float, bool, None)."""


class ScriptLimitExceeded(ScriptError):
    """The script was stopped because it hit a resource limit."""


class ScriptTimeout(ScriptLimitExceeded):
    """The script ran longer than its wall-clock time limit and its sandbox process was killed."""


class ScriptMemoryError(ScriptLimitExceeded):
    """The script tried to use more memory than the sandbox allows."""


class ScriptBusy(ScriptLimitExceeded):
    """Every sandbox worker stayed busy longer than the pool's wait limit; the script did not run
    (the command can be tried again)."""
