"""Errors raised by the engine.

The tree::

    EngineError
    ├── NotFound        an instance, task, deployment or campaign does not exist
    ├── Conflict        the state changed meanwhile (lost race, task already done, deadline passed)
    ├── Forbidden       the actor's role or scope does not allow the command
    ├── Invalid         the input is wrong: form data, a BPMN/DMN file, a command payload
    ├── ScriptFailed    a process owner's script, condition or decision failed
    ├── MailFailed      an e-mail could not be sent (the message's own fault, or the mail server's)
    └── Unavailable     the database cannot serve now, or its schema is not current: try again later

Every error carries what is known of where it happened (instance, BPMN id, file, line) and a
message that says what to do. The web layer maps each class to one HTTP status, once.

The message is English and meant for logs and the command line. What a person reads comes from
``code`` (stable, dotted: ``dossier.changed``) and ``params`` (the values the message names):
the web layer looks the code up in its translated catalogue, so a French page never shows the
engine's English. An error raised without a code gets its class's ``default_code``.
"""

from __future__ import annotations


class EngineError(Exception):
    """Root of every error the engine raises on purpose."""

    default_code = "engine_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: dict | None = None,
        instance_id: int | None = None,
        bpmn_id: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.params = dict(params or {})
        self.instance_id = instance_id
        self.bpmn_id = bpmn_id
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = []
        if self.instance_id is not None:
            where.append(f"instance {self.instance_id}")
        if self.file:
            where.append(f"file {self.file}")
        if self.bpmn_id:
            where.append(f"element {self.bpmn_id}")
        if self.line:
            where.append(f"line {self.line}")
        return f"{self.message} ({', '.join(where)})" if where else self.message


class NotFound(EngineError):
    """The thing named does not exist (or is not visible to the actor)."""

    default_code = "not_found"


def dossier_not_found(instance_id) -> NotFound:
    """The error of an id that names no dossier (reads, queries, history): one message, one code."""
    return NotFound(f"Dossier {instance_id} does not exist", code="dossier.not_found",
                    params={"instance_id": instance_id}, instance_id=instance_id)


class Conflict(EngineError):
    """The state changed since it was read: reload and try again, or the step is already done."""

    default_code = "conflict"


class Forbidden(EngineError):
    """The actor's roles or EPCI scope do not allow this command."""

    default_code = "forbidden"


class Invalid(EngineError):
    """The input is wrong. ``errors`` maps a field path (``a.b.0``) to a list of messages."""

    default_code = "invalid"

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, **context):
        super().__init__(message, **context)
        self.errors = errors or {}


class ScriptFailed(EngineError):
    """A script, condition, timer expression or decision table written in a model failed.

    Whatever model code raises (SpiffWorkflow's errors, a ``TypeError`` from a result the journal
    cannot encode...) becomes this error, with the cause chained. ``data``: the task data at the
    point of failure, when known; ``incident_id``: the incident recorded for it (see
    :mod:`engine.incidents`), so a person can quote it.
    """

    default_code = "script_failed"

    def __init__(self, message: str, *, data: dict | None = None, **context):
        super().__init__(message, **context)
        self.data = data
        self.incident_id: int | None = None


class MailFailed(EngineError):
    """An e-mail of the outbox could not be sent: recorded on the message (one message), or the
    mail server could not be reached (the pass stops; the next one goes on from there)."""

    default_code = "mail_failed"


class Unavailable(EngineError):
    """The database cannot serve now (unreachable, restarting, a deadlock still there after the
    retries) or its schema is not the one this code needs: nothing was changed, try again later.

    ``retry_after``: seconds to wait before trying again (HTTP ``Retry-After``).
    """

    default_code = "service.unavailable"

    def __init__(self, message: str, *, retry_after: int = 5, **context):
        super().__init__(message, **context)
        self.retry_after = retry_after
