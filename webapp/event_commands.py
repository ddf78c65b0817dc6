"""``dsdt message`` and ``dsdt signal``: send a BPMN message or signal to the dossiers waiting for it."""

from __future__ import annotations

import json
import sys

import click

from engine import Actor, EngineError
from engine.roles import ADMIN

#: Who the journal records for a message or signal sent from the command line, unless --actor says.
CLI_ACTOR = "dsdt-cli"


def _value(text: str):
    """A correlation value: JSON when it reads as a JSON scalar (``1``, ``true``, ``"a b"``), else the text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if value is None or isinstance(value, str | int | float | bool) else text


def _correlation(pairs: tuple[str, ...]) -> dict:
    correlation = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: expected KEY=VALUE (for instance dossier_ref=DSDT-2014-00012)",
                                     param_hint="--correlation")
        correlation[key] = _value(value)
    return correlation


def _payload(text: str | None) -> dict:
    if not text:
        return {}
    try:
        payload = json.loads(text)
    except ValueError as err:
        raise click.BadParameter(f"not JSON: {err}", param_hint="--payload") from err
    if not isinstance(payload, dict):
        raise click.BadParameter("a JSON object is expected ({...})", param_hint="--payload")
    return payload


def _send(database: str | None, send) -> None:
    from .cli import _engine

    engine = _engine(database)
    try:
        reached = send(engine)
    except EngineError as err:
        click.echo(f"Refused: {err}", err=True)
        sys.exit(2)
    finally:
        engine.close()
    click.echo(f"{len(reached)} dossier(s) reached" + (f": {', '.join(map(str, reached))}" if reached else "."))


@click.command()
@click.argument("name")
@click.option("--correlation", "-c", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A data key the waiting dossier must hold with this value (repeatable, at least one).")
@click.option("--payload", help="A JSON object: what the waiting event's messageVariable receives.")
@click.option("--actor", default=CLI_ACTOR, show_default=True, help="Who the journal records as the sender.")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def message(name: str, pairs: tuple[str, ...], payload: str | None, actor: str, database: str | None) -> None:
    """Deliver the BPMN message NAME to the running dossiers waiting for it whose data match the correlation."""
    correlation, data = _correlation(pairs), _payload(payload)
    _send(database, lambda engine: engine.deliver_message(Actor(actor, frozenset({ADMIN})), name, correlation, data))


@click.command()
@click.argument("name")
@click.option("--payload", help="A JSON object: what the waiting event's signal variable receives.")
@click.option("--actor", default=CLI_ACTOR, show_default=True, help="Who the journal records as the sender.")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def signal(name: str, payload: str | None, actor: str, database: str | None) -> None:
    """Send the BPMN signal NAME to every running dossier waiting for it."""
    data = _payload(payload)
    _send(database, lambda engine: engine.send_signal(Actor(actor, frozenset({ADMIN})), name, data))
