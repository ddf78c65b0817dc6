"""``dsdt export xes|ocel|csv -o FILE [--campaign CODE] [--since DATE]``: the event log of the
dossiers for process-mining tools (see :mod:`engine.exports`), and ``dsdt export archive REF -o
FILE``: one dossier's archive for legal archiving."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from engine import AuditFilter, EngineConfig, EngineError, Sealer, WorkflowEngine, audit_api, exports

#: the time zone a ``--since`` day is read in (the Région's)
PARIS = ZoneInfo("Europe/Paris")


def _engine(database: str | None) -> WorkflowEngine:
    config = EngineConfig.from_env()
    return WorkflowEngine.from_config(config.with_database(database) if database else config)


def _write(output: Path, produce) -> object:
    """Run ``produce(stream)`` into a file beside ``output``, renamed onto it only once complete:
    a failed export leaves no partial file (nor replaces an earlier one)."""
    folder = output.resolve().parent
    handle, name = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            result = produce(stream)
        os.replace(name, output)
    except BaseException:
        os.unlink(name)
        raise
    return result


def _fail(err: EngineError) -> None:
    click.echo(f"Export refused: {err}", err=True)
    sys.exit(2)


@click.command("export")
@click.argument("fmt", metavar="FORMAT", type=click.Choice([*exports.FORMATS, "archive"]))
@click.argument("ref", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="The file to write (replaced only once the export is complete).")
@click.option("--campaign", help="Only the dossiers of this campaign (its code, e.g. DSDT-2014).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
              help="Only the dossiers opened on or after this day (YYYY-MM-DD, Europe/Paris).")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def export(fmt: str, ref: str | None, output: Path, campaign: str | None, since: datetime | None,
           database: str | None) -> None:
    """Write the event log of the dossiers as FORMAT (xes, ocel or csv), one trace per dossier,
    whole (a dossier opened since --since comes with all its events); or, with FORMAT archive
    and a dossier's REF, that dossier's archive (a zip: history, attachments, integrity proof).

    At most 10,000 dossiers per log: narrow with --campaign or --since beyond."""
    if (fmt == "archive") != (ref is not None):
        raise click.UsageError("A dossier REF goes with the archive format, and only with it.")
    engine = _engine(database)
    try:
        if fmt == "archive":
            sealer = Sealer(engine.db, engine.clock)  # reads the seal log: no key needed
            found = exports.Exports(engine, sealer)
            instance_id = audit_api.Audit(engine).find(ref)
            paths = _write(output, lambda stream: found.archive(instance_id, stream))
            click.echo(f"Archive of {ref}: {len(paths)} files written to {output}.")
            return
        start = datetime.combine(since.date(), time(), PARIS).astimezone(UTC) if since else None
        found = exports.Exports(engine)
        ids = found.dossier_ids(AuditFilter(campaign=campaign, since=start))
        traces, events = _write(output, lambda stream: found.write_log(fmt, ids, stream))
    except EngineError as err:
        _fail(err)
    finally:
        engine.close()
    click.echo(f"{traces} dossiers, {events} events written to {output} ({fmt}).")
