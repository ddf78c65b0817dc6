"""One database connection checkout per request: the engine's connection scope around it.

The scope opens before the first hook that reads the database (the session's account) and
closes at teardown, which runs whatever the request's outcome. Nothing is checked out until
the request's first database use (engine.persistence.connection_scope).
"""

from __future__ import annotations

from flask import Flask, g

from engine import connection_scope

_SCOPE = "_dsdt_connection_scope"


def open_scope() -> None:
    scope = connection_scope()
    scope.__enter__()
    setattr(g, _SCOPE, scope)


def close_scope(error: BaseException | None) -> None:
    scope = g.pop(_SCOPE, None)
    if scope is not None:
        scope.__exit__(None, None, None)


def register(app: Flask) -> None:
    """Enter the scope in ``before_request`` (call before hooks that use the database)."""
    app.before_request(open_scope)
    app.teardown_request(close_scope)
