"""The DSDT workflow engine: a library the web app and the ``dsdt`` command call.

This module is the only public surface; ``webapp`` imports nothing deeper.
"""

from . import campaigns as campaigns_api
from .clock import Clock, FixedClock, SystemClock
from .commands import SYSTEM, Actor
from .config import EngineConfig
from .deployments import DeploymentInfo, read_model_files
from .errors import Conflict, EngineError, Forbidden, Invalid, NotFound, ScriptFailed
from .inbox import InboxFilter
from .persistence.db import Database
from .replay import VerifyReport
from .service import WorkflowEngine

__all__ = [
    "SYSTEM",
    "Actor",
    "Clock",
    "Conflict",
    "Database",
    "DeploymentInfo",
    "EngineConfig",
    "EngineError",
    "FixedClock",
    "Forbidden",
    "InboxFilter",
    "Invalid",
    "NotFound",
    "ScriptFailed",
    "SystemClock",
    "VerifyReport",
    "campaigns_api",
    "WorkflowEngine",
    "read_model_files",
]
