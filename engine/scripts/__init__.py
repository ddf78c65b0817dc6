"""Safe execution of the Python written in process models (scripts, conditions, timers, DMN).

Typical use::

    pool = SandboxPool(size=2, time_limit=2.0)
    workflow.script_engine = SandboxedScriptEngine(pool)   # after every load
    ...
    pool.close()
"""

from .engine import SandboxedEnvironment, SandboxedScriptEngine, make_plain_script_engine
from .errors import ScriptBusy, ScriptDataError, ScriptError, ScriptLimitExceeded, ScriptMemoryError, ScriptTimeout
from .helpers import HELPERS
from .sandbox import SandboxPool

__all__ = [
    "HELPERS",
    "SandboxPool",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "ScriptBusy",
    "ScriptDataError",
    "ScriptError",
    "ScriptLimitExceeded",
    "ScriptMemoryError",
    "ScriptTimeout",
    "make_plain_script_engine",
]
