"""``dsdt migrate-dossiers``: move running dossiers to another deployed version (engine.migration)."""

from __future__ import annotations

import sys

import click

from engine import Actor, EngineError, migrate_dossiers
from engine.roles import PROCESS_OWNER

#: Who the journal records for a migration run from the command line, unless --actor says.
CLI_ACTOR = "dsdt-cli"


@click.command("migrate-dossiers")
@click.option("--to", "to_version", type=int, required=True, metavar="VERSION", help="The version they move to.")
@click.option("--dossier", "refs", multiple=True, metavar="REF", help="A dossier's reference (repeatable).")
@click.option("--from", "from_version", type=int, metavar="VERSION",
              help="Move every running dossier of this version instead.")
@click.option("--reason", required=True, help="Why (mandatory; journaled with each dossier).")
@click.option("--dry-run", is_flag=True, help="Run the safety check only; migrate nothing.")
@click.option("--actor", default=CLI_ACTOR, show_default=True, help="Who the journal records as the process owner.")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def migrate_dossiers_command(to_version: int, refs: tuple[str, ...], from_version: int | None, reason: str,
                             dry_run: bool, actor: str, database: str | None) -> None:
    """Move running dossiers to version VERSION after a safety check; refuse (exit 2), naming each
    dossier and step the new version cannot take over, and then migrate none."""
    from .cli import _engine

    engine = _engine(database)
    try:
        report = migrate_dossiers(engine, Actor(actor, frozenset({PROCESS_OWNER})), to_version, reason=reason,
                                  refs=list(refs) or None, from_version=from_version, dry_run=dry_run)
    except EngineError as err:
        click.echo(f"Refused: {err}", err=True)
        sys.exit(2)
    finally:
        engine.close()
    verb = "would move" if dry_run else "migrated"
    click.echo(f"{len(report.migrated)} dossier(s) {verb} to version {report.to_version}"
               + (f": {', '.join(report.migrated)}" if report.migrated else "."))
    if report.unchanged:
        click.echo(f"Already on version {report.to_version}: {', '.join(report.unchanged)}")
