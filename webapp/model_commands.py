"""``dsdt lint DIR``: every reason the model files of DIR cannot be deployed, one line each.

The engine's checks (:func:`engine.bpmn.lint.lint_files`: parser, lanes, forms, scripts, timers,
calls, contract, constructs the engine cannot run) and, when ``node`` and the project's
``node_modules`` are there, bpmnlint's recommended rules as configured in ``.bpmnlintrc`` (run by
``webapp/assets/lint/bpmnlint_json.cjs``). Exit 0 when nothing is found, 1 otherwise, 2 when
bpmnlint cannot run although asked for.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click

from engine import lint_files
from engine.model_drafts import MAX_FILE_BYTES, MAX_FILES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BPMNLINT_SCRIPT = PROJECT_ROOT / "webapp" / "assets" / "lint" / "bpmnlint_json.cjs"
BPMNLINT_CONFIG = PROJECT_ROOT / ".bpmnlintrc"
BPMNLINT_TIMEOUT = 300  # seconds: a whole model takes about one


def model_folder_files(directory: Path) -> dict[str, Path]:
    """The model files of ``directory``, keyed as a deployment keys them: ``directory`` holds
    ``processes/`` (and ``forms/``), or is itself the processes folder (its sibling ``forms/`` read)."""
    if (directory / "processes").is_dir():
        processes, forms = directory / "processes", directory / "forms"
    else:
        processes, forms = directory, directory.parent / "forms"
    found = {}
    for folder, prefix in ((processes, "processes"), (forms, "forms")):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and path.suffix in (".bpmn", ".dmn", ".json"):
                    found[f"{prefix}/{path.name}"] = path
    return found


def _read(paths: dict[str, Path]) -> dict[str, bytes]:
    """The files' contents; one over the size limit is read only up to one byte past it (lint names it)."""
    files = {}
    for key, path in list(paths.items())[:MAX_FILES + 1]:
        with path.open("rb") as handle:
            files[key] = handle.read(MAX_FILE_BYTES + 1)
    return files


def bpmnlint_reports(paths: dict[str, Path]) -> list[dict]:
    """bpmnlint's reports on the BPMN files (``file`` given back as the model key)."""
    bpmn = {str(path): key for key, path in paths.items() if key.endswith(".bpmn")
            and path.stat().st_size <= MAX_FILE_BYTES}
    if not bpmn:
        return []
    done = subprocess.run(["node", str(BPMNLINT_SCRIPT), str(BPMNLINT_CONFIG), *bpmn], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=BPMNLINT_TIMEOUT, check=False)
    if done.returncode != 0:
        raise click.ClickException(f"bpmnlint failed (exit {done.returncode}): {done.stderr.strip()[:2000]}")
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    for report in reports:
        report["file"] = bpmn.get(report["file"], report["file"])
    return reports


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--bpmnlint/--no-bpmnlint", default=None,
              help="Run bpmnlint's rules (default: when node and node_modules/bpmnlint are installed).")
def lint(directory: Path, bpmnlint: bool | None) -> None:
    """Check the model files of DIRECTORY as deploy would, naming file, element and reason of each problem."""
    paths = model_folder_files(directory)
    if not paths:
        raise click.ClickException(f"{directory}: no .bpmn, .dmn or .json file in it, nor in its processes/ folder")
    lines = [problem.as_text() for problem in lint_files(_read(paths))]
    available = shutil.which("node") is not None and (PROJECT_ROOT / "node_modules" / "bpmnlint").is_dir()
    if bpmnlint and not available:
        click.echo("bpmnlint cannot run: node or node_modules/bpmnlint is missing (npm ci)", err=True)
        sys.exit(2)
    if bpmnlint is None and not available:
        click.echo("note: bpmnlint's rules not run (node or node_modules/bpmnlint missing)", err=True)
    if available and bpmnlint is not False:
        lines += [f"{r['file']}: {r.get('id') or '-'}: [bpmnlint/{r['rule']}] {r['category']}: {r['message']}"
                  for r in bpmnlint_reports(paths)]
    for line in lines:
        click.echo(line)
    if lines:
        click.echo(f"{len(lines)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"{len(paths)} file(s) checked: no problem.", err=True)


@click.group()
def model() -> None:
    """Import model files into a draft, export a deployed version or a draft as a zip."""


def _engine_for(database: str | None):
    from .cli import _engine

    return _engine(database)


@model.command("export")
@click.argument("what")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The zip to write.")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def export_model(what: str, output: Path, database: str | None) -> None:
    """Write deployed version WHAT (a number), or the draft named WHAT, as a zip of its files (bytes unchanged)."""
    from sqlalchemy import select

    from engine import EngineError, ModelDrafts, export_zip
    from engine.persistence.models import Deployment

    engine = _engine_for(database)
    try:
        if what.isdigit():
            with engine.db.sessions() as session:
                deployment_id = session.scalar(select(Deployment.id).where(Deployment.version == int(what)))
                if deployment_id is None:
                    raise click.ClickException(f"There is no deployed version {what}")
                files = engine.deployments.files(session, deployment_id)
        else:
            files = ModelDrafts(engine.db, engine.clock).get(what).files
    except EngineError as err:
        raise click.ClickException(str(err)) from err
    finally:
        engine.close()
    output.write_bytes(export_zip(files))
    click.echo(f"{len(files)} file(s) written to {output}")


@model.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--draft", "name", required=True, help="The new draft's name.")
@click.option("--author", default="dsdt-cli", show_default=True, help="Who the draft records as its author.")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def import_model(sources: tuple[Path, ...], name: str, author: str, database: str | None) -> None:
    """Create draft NAME from a zip, or from single .bpmn, .dmn and form files; refused whole when one is unusable."""
    from engine import EngineError, ModelDrafts, import_upload

    uploads = []
    for source in sources[:MAX_FILES + 1]:
        with source.open("rb") as handle:
            uploads.append((source.name, handle.read(max(MAX_FILE_BYTES, 64 * 1024 * 1024) + 1)))
    try:
        files = import_upload(uploads)
    except EngineError as err:
        click.echo(f"Refused: {err}", err=True)
        sys.exit(2)
    engine = _engine_for(database)
    try:
        summary = ModelDrafts(engine.db, engine.clock).create(name, files, author)
    except EngineError as err:
        click.echo(f"Refused: {err}", err=True)
        sys.exit(2)
    finally:
        engine.close()
    click.echo(f"Draft {summary.name} created with {len(files)} file(s) (revision {summary.revision}).")
