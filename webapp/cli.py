"""The ``dsdt`` command: deploy models, simulate campaigns, run the timer worker, verify journals."""

from __future__ import annotations

import gc
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from engine import (
    EngineConfig,
    EngineError,
    FixedClock,
    Invalid,
    Unavailable,
    WorkflowEngine,
    campaigns_api,
    read_model_files,
)

from .analytics_commands import analytics
from .event_commands import message, signal
from .export_commands import export
from .migration_commands import migrate_dossiers_command
from .model_commands import lint, model
from .seal_commands import audit_seals, echo_seal_report, read_seals, seal, seal_jobs

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _engine(database: str | None = None, clock=None, config: EngineConfig | None = None) -> WorkflowEngine:
    """The engine of a one-off command (``config``, else the environment's on ``database``).

    It migrates a SQLite file (the embedded default is one process), but only ``dsdt migrate``
    migrates PostgreSQL: on a schema not at this release's revision the command stops (exit 2),
    saying to run it, as the web and worker processes do."""
    if config is None:
        config = EngineConfig.from_env()
        if database:
            config = config.with_database(database)
    try:
        return WorkflowEngine.from_config(config, clock=clock, upgrade=None)
    except Unavailable as err:
        context = click.get_current_context(silent=True)
        _refuse_to_start(" ".join(["dsdt", *context.command_path.split()[1:]]) if context else "dsdt", err)


def _refuse_to_start(what: str, err: Unavailable | Invalid) -> None:
    """A process that cannot start (the schema not migrated, the database down, bad sealing
    settings): say why, exit 2."""
    click.echo(f"{what} not started: {err}", err=True)
    sys.exit(2)


def _timer_worker(what: str, services, interval: float):
    """The worker firing timers, sending the outbox and sealing the journal; bad sealing settings
    close the engine and refuse to start."""
    from engine import Worker

    try:
        sealing = seal_jobs(services.engine)
    except Invalid as err:
        services.engine.close()
        _refuse_to_start(what, err)

    def daily_digests() -> int:
        return services.digests.send_due().sent

    def jury_reminders() -> int:
        return services.jury_reminders.send_due().reminded

    def jury_impossibilities() -> int:
        from engine import forward_waiting

        return forward_waiting(services.engine)

    return Worker(services.engine, interval,
                  jobs=[daily_digests, jury_reminders, jury_impossibilities, services.notifications.send_pending,
                        *sealing])


@click.group()
def main() -> None:
    """DSDT workflow: deployments, simulation, timers and audit."""
    _configure_logs("text")


def _configure_logs(default: str) -> None:
    """Records in ``DSDT_LOG_FORMAT`` (``default`` when unset: text, JSON for the worker); exit 2 on a bad value."""
    from . import config, log_format

    try:
        log_format.configure(config.log_format(), default)
    except ValueError as err:
        click.echo(str(err), err=True)
        sys.exit(2)


@main.command()
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def migrate(database: str | None) -> None:
    """Bring the database schema to this version's (once per release, before web and workers start).

    Takes an advisory lock on PostgreSQL: two runs at once migrate one after the other.
    """
    from engine import Database

    from . import config

    url = database or config.from_env().get("DSDT_DATABASE_URL") or EngineConfig.from_env().database_url
    db = Database(url)
    try:
        applied = db.upgrade()
        current, _ = db.revisions()
    finally:
        db.dispose()
    if applied:
        click.echo(f"Schema migrated to revision {current} (applied: {', '.join(applied)}).")
    else:
        click.echo(f"Schema already current (revision {current}).")


@main.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=PROJECT_ROOT,
              help="Folder holding processes/ and forms/.")
@click.option("--author", default="dsdt-cli", help="Who deploys (recorded with the version).")
@click.option("--comment", default="", help="Why this version.")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
@click.option("--check-history", is_flag=True,
              help="First replay every recorded history against the new files; refuse if one no longer fits.")
def deploy(root: Path, author: str, comment: str, database: str | None, check_history: bool) -> None:
    """Deploy processes/ and forms/ as a new version (none if nothing changed)."""
    engine = _engine(database)
    try:
        if check_history:
            report = engine.check_history(read_model_files(root))
            for item in report.diverged:
                click.echo(f"  {item['ref']}: {item['problem']}", err=True)
            if report.diverged:
                click.echo(f"Deployment refused: {len(report.diverged)} of {report.instances} recorded "
                           "histories no longer fit the new models. The current deployment is unchanged.", err=True)
                sys.exit(3)
            click.echo(f"All {report.instances} recorded histories fit the new models.")
        info = engine.deploy_directory(root, author=author, comment=comment)
    except Invalid as err:
        click.echo(f"Deployment refused: {err}", err=True)
        click.echo("The current deployment is unchanged.", err=True)
        sys.exit(2)
    finally:
        engine.close()
    if info.created:
        click.echo(f"Deployed version {info.version} ({info.content_hash[:12]}).")
    else:
        click.echo(f"Nothing changed: version {info.version} stays current.")


@main.command()
@click.option("--applications", "-n", type=click.IntRange(1), default=100, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--database", help="Database URL, which must hold no application yet (default: DSDT_DATABASE_URL, "
                                  "else a fresh SQLite file in a temporary folder).")
@click.option("--baseline/--no-baseline", default=True, show_default=True,
              help="Also run the same lifecycle on plain in-memory SpiffWorkflow and report the cost ratio.")
def simulate(applications: int, seed: int, as_json: bool, database: str | None, baseline: bool) -> None:
    """Run N applications of the 2014-2015 campaign through the lifecycle on a virtual clock.

    The engine is built as the web app and the worker build it (settings from the environment,
    the stored notifier), and every person acted as has an account, so notifications cost what
    they cost in the app; "commands" is what the journal holds at the end.
    """
    from . import config

    with tempfile.TemporaryDirectory() as tmp:
        url = database or config.from_env().get("DSDT_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'simulation.sqlite'}"
        try:
            result = run_simulation(url, applications, seed, baseline)
        except NotEmpty as err:
            click.echo(f"Simulation refused: {err}", err=True)
            sys.exit(2)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"{result['applications']} applications, {result['commands']} commands in "
               f"{result['seconds']} s ({result['commands_per_second']} commands/s) on {result['database']}"
               + (f" (synchronous={result['sqlite_synchronous']})" if result["sqlite_synchronous"] else ""))
    for outcome, count in result["final_states"].items():
        click.echo(f"  {outcome:22} {count}")
    click.echo(f"  jury territorial: {result['jury']['territorial']}, jury régional: {result['jury']['regional']}")
    if "baseline" in result:
        click.echo(f"In-memory SpiffWorkflow: {result['baseline']['seconds']} s; "
                   f"durable/in-memory ratio {result['ratio']}")


class NotEmpty(Exception):
    """The simulation's database already holds applications (it would mix its own into them)."""


def run_simulation(url: str, applications: int, seed: int, baseline: bool) -> dict:
    from engine.simulation import MemoryDriver
    from engine.simulation import simulate as run

    code, libelle, data = campaigns_api.historical_campaign()
    start = datetime(2014, 9, 1, 8, tzinfo=UTC)
    result, forms, data = _run_durable(url, applications, seed, start)
    if baseline:
        gc.collect()  # the durable engine and its cache are gone: the baseline does not pay for them
        memory = run(MemoryDriver(PROJECT_ROOT, FixedClock(start), (code, libelle, data)), forms, code, applications,
                     seed, start, jury_sessions=True).as_dict()
        result["baseline"] = {key: memory[key] for key in ("seconds", "commands", "commands_per_second",
                                                           "final_states", "jury_sessions")}
        result["ratio"] = round(result["seconds"] / memory["seconds"], 2)
    return result


def _run_durable(url: str, applications: int, seed: int, start: datetime) -> tuple[dict, dict, dict]:
    """The simulation on the engine at ``url``: (its report, the campaign's forms, the campaign's
    data as a dossier's start reads it, juries included, for the in-memory baseline)."""
    from sqlalchemy import func, select

    from engine.persistence.models import Instance
    from engine.simulation import DurableDriver, campaign_people, create_accounts
    from engine.simulation import simulate as run
    from engine.simulation.conventions import PATHS as CONVENTION_PATHS
    from engine.simulation.conventions import simulate_conventions
    from engine.simulation.sessions import seat_missing_juries

    from . import config, services

    code, libelle, data = campaigns_api.historical_campaign()
    clock = FixedClock(start)
    # The web app's and the worker's engine: EngineConfig from the environment, then the services
    # (the stored notifier) over it; only the clock is the simulation's.
    engine = _engine(url, clock)
    try:
        services.build(config.from_env(), engine)
        with engine.db.engine.begin() as connection:
            held = connection.execute(select(func.count()).select_from(Instance)).scalar_one()
            if held:
                raise NotEmpty(f"the database {engine.db.engine.url!r} already holds {held} application(s). "
                               "Give an empty one with --database or DSDT_DATABASE_URL, or neither for a "
                               "fresh temporary SQLite file.")
        # every campaign EPCI gets a territorial jury, so that each session path is taken
        seat_missing_juries(engine.db, sorted(data["epci"]), start.date())
        with engine.db.engine.begin() as connection:
            create_accounts(connection, campaign_people(data, applications), clock.now())
        engine.deploy_directory(PROJECT_ROOT, author="simulation")
        engine.save_campaign(code, libelle, data)
        forms = engine.current_forms()
        result = run(DurableDriver(engine, clock), forms, code, applications, seed, start, jury_sessions=True).as_dict()
        # After the dossiers, on their own random stream: not in the in-memory baseline (nor the ratio).
        result["conventions"] = simulate_conventions(engine, clock, code, sorted(data["epci"]),
                                                     min(200, max(len(CONVENTION_PATHS), applications // 10)), seed)
        result["database"] = engine.db.engine.dialect.name
        result["sqlite_synchronous"] = engine.db.synchronous if engine.db.is_sqlite else None
        with engine.db.engine.connect() as connection:
            saved = campaigns_api.get(connection, code).data
        return result, forms, saved
    finally:
        engine.close()


@main.command()
@click.option("--quick", is_flag=True, help="Smaller sizes (under a minute); the report says which.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (stable keys, see README).")
def bench(quick: bool, as_json: bool) -> None:
    """Measure the engine as the web app runs it: lifecycle, completions, sizes, verify (issue 13).

    SQLite (NORMAL and FULL) in temporary files, and PostgreSQL too when DSDT_DATABASE_URL names
    one (in a schema of its own, dropped at the end).
    """
    from engine.bench import run

    from . import config, services

    settings = config.from_env()
    url = settings.get("DSDT_DATABASE_URL") or ""
    report = run(quick=quick, postgres_url=url if url.startswith("postgresql") else None,
                 prepare=lambda engine: services.build(settings, engine),
                 log=None if as_json else lambda what: click.echo(f"measuring: {what}", err=True))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for store, result in report["lifecycle"].items():
        click.echo(f"lifecycle {store:14} {result['commands_per_second']:>8} commands/s"
                   f"  p50 {result['command_p50_ms']} ms  p95 {result['command_p95_ms']} ms"
                   f"  ratio vs in-memory {result['ratio_vs_inmemory']}")
    for store, result in report["completion"].items():
        click.echo(f"completion {store}: warm p50 {result['warm_completion_ms']['p50']} ms, cold p50 "
                   f"{result['cold_completion_ms']['p50']} ms, fresh process by phase "
                   f"{result['fresh_process_first_command_ms_by_phase']}")
    click.echo(f"warm completion by extra accounts: {report['accounts']['warm_completion_ms_by_accounts']}")
    for size, result in report["open_tasks"]["by_open_tasks"].items():
        click.echo(f"{size} open tasks: inbox p50 {result['inbox_ms']['p50']} ms, completion p50 "
                   f"{result['completion_ms']['p50']} ms")
    click.echo(f"verify: {report['verify']['dossiers_per_second']} dossiers/s; per dossier: "
               f"{report['sizes_per_dossier']}; peak RSS {report['peak_rss_mb']} MB")
    for name, target in report["targets"].items():
        click.echo(f"target {name}: {target['ratio']} (limit {target['limit']}) {'met' if target['met'] else 'MISSED'}")


@main.command()
@click.option("--interval", type=float, default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--database", help="Database URL.")
def worker(interval: float, database: str | None) -> None:
    """Fire due timers, and send the e-mail outbox when SMTP is configured, until stopped (Ctrl-C)."""
    from . import config, services

    _configure_logs("json")  # a production process: JSON records unless DSDT_LOG_FORMAT=text
    settings = config.from_env()
    if database:
        settings["DSDT_DATABASE_URL"] = database
    try:
        built = services.build(settings)
    except (Unavailable, Invalid) as err:  # the schema not migrated, a virtual clock in production...
        _refuse_to_start("Worker", err)
    runner = _timer_worker("Worker", built, interval)
    click.echo("Timer worker started; Ctrl-C to stop.")
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.stop()
    finally:
        built.engine.close()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--database", help="Database URL.")
@click.option("--seals", "seals_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A seal log (dsdt seal export): also check that no history sealed in it was rewritten.")
@click.option("--public-key", "public_keys", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A public key the seals may be signed with (repeatable; default: DSDT_SEAL_KEY's).")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes replaying the dossiers.")
@click.option("--resume", "resume_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A progress file: records each chunk verified, and a run given it again goes on from there.")
@click.option("--progress-every", type=click.IntRange(0), default=500, show_default=True,
              help="Print progress on stderr every N dossiers (0: never).")
def verify(as_json: bool, database: str | None, seals_file: Path | None, public_keys: tuple[Path, ...],
           jobs: int, resume_file: Path | None, progress_every: int) -> None:
    """Replay every instance from its journal and check the hash chains; non-zero exit on any problem.

    With --seals, also check each seal's signature and chain, and that every sealed dossier's
    journal still leads to its sealed head, even if someone recomputed every hash since."""
    config = EngineConfig.from_env()
    if database:
        config = config.with_database(database)
    engine = _engine(config=config)
    shown = [0]

    def progress(where) -> None:
        if progress_every and (where.done - shown[0] >= progress_every or where.done == where.total):
            shown[0] = where.done
            click.echo(f"verify: {where.done}/{where.total} dossiers ({where.rate:.0f}/s)", err=True)

    try:
        sealed = read_seals(seals_file, public_keys) if seals_file else None
        report = engine.verify(jobs=jobs, resume=resume_file, progress=progress, config=config)
        seal_report = audit_seals(engine, *sealed) if sealed else None
    except EngineError as err:
        click.echo(f"Verification failed: {err}", err=True)
        sys.exit(2)
    finally:
        engine.close()
    if as_json:
        result = report.as_dict()
        if seal_report is not None:
            result["seals"] = seal_report.as_dict()
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(f"{report.verified}/{report.instances} instances verified; chain "
                   f"{'intact' if report.chain_ok else 'BROKEN'}")
        for item in report.diverged:
            click.echo(f"  {item['ref']} (instance {item['instance']}): {item['problem']}", err=True)
        if seal_report is not None:
            echo_seal_report(seal_report)
    if report.diverged or not report.chain_ok or (seal_report is not None and not seal_report.ok):
        sys.exit(1)


@main.command()
@click.option("--database", help="Database URL.")
def digest(database: str | None) -> None:
    """Queue today's daily digest of every account that chose it and has none yet (idempotent per day).

    The worker does it from 7:00 Europe/Paris; this sends it at once. The outbox sends the mails."""
    from . import config, services

    settings = config.from_env()
    if database:
        settings["DSDT_DATABASE_URL"] = database
    try:
        built = services.build(settings)
    except Unavailable as err:
        _refuse_to_start("Digest", err)
    try:
        report = built.digests.send_due(force=True)
    finally:
        built.engine.close()
    click.echo(f"{report.day.isoformat()}: {report.sent} digest(s) queued, {report.empty} with no open task.")


main.add_command(message)
main.add_command(migrate_dossiers_command)
main.add_command(lint)
main.add_command(model)
main.add_command(signal)


@main.command()
@click.argument("login")
@click.option("--label", default="", help="What the token is for (a script's name), to find it again.")
@click.option("--revoke", is_flag=True, help="Revoke LOGIN's tokens (only those with --label, if given) instead.")
@click.option("--database", help="Database URL (default: DSDT_DATABASE_URL or the embedded SQLite).")
def token(login: str, label: str, revoke: bool, database: str | None) -> None:
    """Create an API token for LOGIN and print it, once: only its hash is kept."""
    from engine import AccountService, NotFound

    engine = _engine(database)
    accounts = AccountService(engine.db, engine.clock)
    try:
        if revoke:
            count = accounts.revoke_tokens(login, label or None)
            click.echo(f"{count} jeton(s) révoqué(s) pour {login}.")
            return
        value = accounts.create_token(login, label)
    except NotFound as err:
        click.echo(f"{err.message} Créez d'abord le compte (page d'administration).", err=True)
        sys.exit(2)
    finally:
        engine.close()
    click.echo(value)
    click.echo("Conservez ce jeton : il ne sera plus affiché. En-tête : Authorization: Bearer <jeton>", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--history", type=click.IntRange(0), default=40, show_default=True,
              help="Applications of the historical 2014-2015 campaign to simulate on first start.")
@click.option("--setup-only", is_flag=True, help="Prepare the database and demo data, then exit.")
@click.option("--demo/--no-demo", default=None,
              help="Seed the demo accounts (one shared, published password) and applications. Default: only on "
                   "the embedded SQLite (no DSDT_DATABASE_URL).")
@click.option("--force", is_flag=True, help="With --demo: seed a PostgreSQL database too (a throwaway one!).")
def run(host: str, port: int, history: int, setup_only: bool, demo: bool | None, force: bool) -> None:
    """Set up the embedded default (SQLite under instance/, demo data) and serve the web app."""
    import threading
    from datetime import date

    from . import config, create_app
    from . import demo as demo_data

    url = config.from_env().get("DSDT_DATABASE_URL")
    try:
        seeding = demo_data.should_seed(url, demo, force)
    except demo_data.DemoRefused as err:
        click.echo(f"DSDT not started: {err}", err=True)
        sys.exit(2)
    try:
        app = create_app()
    except Unavailable as err:
        _refuse_to_start("DSDT", err)
    services = app.extensions["dsdt"]
    if seeding:
        created = demo_data.seed(services, PROJECT_ROOT, date.today(), history=history, log=click.echo)
        click.echo("Données de démonstration créées." if created else "Base existante réutilisée.")
        click.echo(f"Comptes de démonstration (mot de passe pour tous : {demo_data.DEMO_PASSWORD}) :")
        for login, _name, held, scope in demo_data.demo_users(services.engine):
            click.echo(f"  {login:24} {', '.join(held)}{' — ' + ', '.join(scope) if scope else ''}")
    else:
        click.echo("Pas de données de démonstration sur cette base (--demo pour en créer) ; les modèles se "
                   "déploient avec « dsdt deploy ».")
    if setup_only:
        services.engine.close()
        return
    worker = _timer_worker("DSDT", services, 5.0)
    thread = threading.Thread(target=worker.run, name="dsdt-timers", daemon=True)
    thread.start()
    click.echo(f"DSDT sur http://{host}:{port}/ (Ctrl-C pour arrêter)")
    try:
        from waitress import serve
    except ImportError:
        app.run(host=host, port=port, threaded=True)
    else:
        serve(app, host=host, port=port, threads=8)
    worker.stop()
    services.engine.close()


main.add_command(seal)
main.add_command(export)
main.add_command(analytics)
