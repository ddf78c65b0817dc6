"""``dsdt seal``: sign the journal heads, export the seal log, prove one dossier's inclusion.

Also the pieces ``dsdt verify --seals`` and the timer workers use (see :mod:`engine.seals`).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from engine import EngineConfig, EngineError, Invalid, Sealer, WorkflowEngine, seals

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def _engine(database: str | None) -> WorkflowEngine:
    from .cli import _engine as command_engine  # refuses a PostgreSQL schema not migrated

    return command_engine(database)


def seal_jobs(engine: WorkflowEngine) -> list:
    """The timer worker's seal job when ``DSDT_SEAL_KEY`` is set, else none. A key that cannot
    serve raises :class:`Invalid` now, so a worker never starts to find out at night."""
    config = EngineConfig.from_env()
    if not config.seal_key:
        log.info("DSDT_SEAL_KEY is not set: the journal heads are not sealed")
        return []
    return [Sealer.from_config(config, engine.db, engine.clock).seal_if_due]


def read_seals(path: Path, public_keys) -> tuple[list, dict]:
    """The records of the seal log ``path`` and the trusted keys (``--public-key``s, else the
    public half of ``DSDT_SEAL_KEY``)."""
    if public_keys:
        keys = [seals.load_public_key(key) for key in public_keys]
    else:
        configured = EngineConfig.from_env().seal_key
        if not configured:
            raise Invalid("Give the public key the seals were signed with (--public-key PATH), or set "
                          "DSDT_SEAL_KEY: a seal is only worth the key that checks it.", code="seal.no_key")
        keys = [seals.load_public_key(configured)]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise Invalid(f"The seal log {path} cannot be read: {err}", code="seal.log_invalid",
                      params={"where": str(path), "reason": type(err).__name__}) from err
    return seals.read_log(text, str(path)), seals.trusted_keys(keys)


def audit_seals(engine: WorkflowEngine, records: list, keys: dict):
    return Sealer(engine.db, engine.clock).audit(records, keys)


def echo_seal_report(report) -> None:
    click.echo(f"Seals: {report.trusted}/{report.seals} trusted, {report.heads} sealed heads checked; "
               f"{'no sealed history rewritten' if report.ok else 'PROBLEMS'}")
    for item in report.refused:
        click.echo(f"  seal {item['seal']}: {item['problem']}", err=True)
    for item in report.rewritten:
        click.echo(f"  {item['ref']} (instance {item['instance']}), seal {item['seal']}: {item['problem']}", err=True)


def _refuse(what: str, err: EngineError) -> None:
    click.echo(f"{what}: {err}", err=True)
    sys.exit(2)


@click.group(invoke_without_command=True)
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
@click.option("--append", "append_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Also append the seal to this JSON-lines file (the log you keep and publish).")
@click.option("--json", "as_json", is_flag=True, help="Print the seal as one JSON line.")
@click.pass_context
def seal(ctx: click.Context, database: str | None, append_to: Path | None, as_json: bool) -> None:
    """Seal every dossier's journal head now: a Merkle root signed with DSDT_SEAL_KEY, kept in the
    database's seal log (the worker seals daily); subcommands: keygen, export, proof, check-proof."""
    ctx.obj = database
    if ctx.invoked_subcommand is not None:
        return
    engine = _engine(database)
    try:
        record = Sealer.from_config(EngineConfig.from_env(), engine.db, engine.clock).seal()
    except EngineError as err:
        _refuse("No seal", err)
    finally:
        engine.close()
    if append_to is not None:
        with append_to.open("a", encoding="utf-8") as out:
            out.write(record.line() + "\n")
    if as_json:
        click.echo(record.line())
    else:
        click.echo(f"Seal {record.sequence}: {record.header['size']} dossiers, root {record.header['root']}, "
                   f"key {record.header['key'][:16]}…")


@seal.command()
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the private key (PEM, mode 0600); the public key goes beside it (.pub).")
def keygen(out: Path) -> None:
    """Create the Ed25519 key that signs seals. Keep it outside the database and the repository."""
    if PROJECT_ROOT in out.resolve().parents:
        click.echo(f"Key refused: {out} is inside the repository ({PROJECT_ROOT}). Keep the seal key elsewhere "
                   "(e.g. /etc/dsdt/seal.pem), readable only by the account that runs dsdt.", err=True)
        sys.exit(2)
    try:
        public = seals.generate_key(out)
    except EngineError as err:
        _refuse("Key refused", err)
    fingerprint = seals.fingerprint(seals.load_public_key(public))
    click.echo(f"Private key: {out} (set DSDT_SEAL_KEY={out})\nPublic key: {public}\nFingerprint: {fingerprint}")


@seal.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write the seal log to (default: standard output).")
@click.option("--database", help="Database URL.")
@click.pass_obj
def export(database_of_group: str | None, output: Path | None, database: str | None) -> None:
    """Write every seal, oldest first, as JSON lines: the log to keep and publish outside the database."""
    engine = _engine(database or database_of_group)
    try:
        sealer = Sealer(engine.db, engine.clock)
        if output is None:
            count = sealer.export(sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as out:
                count = sealer.export(out)
    finally:
        engine.close()
    click.echo(f"{count} seal(s) exported.", err=True)


@seal.command()
@click.argument("ref")
@click.option("--seal", "sequence", type=int, help="The seal to prove it in (default: the latest holding it).")
@click.option("--database", help="Database URL.")
@click.pass_obj
def proof(database_of_group: str | None, ref: str, sequence: int | None, database: str | None) -> None:
    """Print dossier REF's inclusion proof: its sealed head, the signed seal and the Merkle path."""
    engine = _engine(database or database_of_group)
    try:
        result = Sealer(engine.db, engine.clock).proof(ref, sequence)
    except EngineError as err:
        _refuse("No proof", err)
    finally:
        engine.close()
    click.echo(json.dumps(result, ensure_ascii=False))


@seal.command("check-proof")
@click.argument("proof_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--public-key", "public_keys", multiple=True, required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="A public key seals may be signed with.")
def check_proof(proof_file: Path, public_keys: tuple[Path, ...]) -> None:
    """Check an inclusion proof (dsdt seal proof) with the public key alone: no database needed."""
    try:
        keys = seals.trusted_keys([seals.load_public_key(key) for key in public_keys])
    except EngineError as err:
        _refuse("No check", err)
    try:
        proven = seals.verify_proof(json.loads(proof_file.read_text(encoding="utf-8")), keys)
    except (json.JSONDecodeError, UnicodeDecodeError):
        click.echo(f"Proof refused: {proof_file} is not JSON.", err=True)
        sys.exit(1)
    except Invalid as err:
        click.echo(f"Proof refused: {err}", err=True)
        sys.exit(1)
    click.echo(f"{proven['ref']}: entry {proven['seq']} with head {proven['head']} is sealed.")
