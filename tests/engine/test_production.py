"""Running the engine as a real service (issue 12): model files with a DTD refused, the schema
migrated once under a lock, one lock order for commands and timer workers, transient database
errors retried or answered as "unavailable", stale connections replaced.

The PostgreSQL tests run against the server ``DSDT_TEST_POSTGRES_URL`` names (CI starts one);
each ends with a full ``verify``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine import (
    Conflict,
    Database,
    EngineConfig,
    Invalid,
    NotFound,
    Unavailable,
    WorkflowEngine,
    campaigns_api,
    read_model_files,
    service,
    transient,
)
from engine.bpmn.parser import parse_models
from tests.conftest import POSTGRES_URL
from tests.factories import Walker

ROOT = Path(__file__).resolve().parents[2]
CONTACT = "processes/phase_contact.bpmn"
SCRIPT_LINE = 'titre_projet = contact["titre_projet"]'


def _with_doctype(files: dict[str, bytes], name: str, doctype: str, replace: tuple[str, str] | None = None):
    text = files[name].decode()
    declaration, rest = text.split("\n", 1)
    if replace:
        assert replace[0] in rest
        rest = rest.replace(replace[0], replace[1])
    return {**files, name: f"{declaration}\n{doctype}\n{rest}".encode()}


BILLION_LAUGHS = (
    '<!DOCTYPE bpmn:definitions [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10))
    + "]>"
)


@pytest.mark.parametrize("doctype, replace", [
    # An internal entity: before the fix, lxml kept the reference unresolved and the text at it
    # vanished, so the second line of the script was silently dropped.
    ('<!DOCTYPE bpmn:definitions [<!ENTITY titre \'titre_projet = contact["titre_projet"]\'>]>',
     (SCRIPT_LINE, "&titre;")),
    ('<!DOCTYPE bpmn:definitions SYSTEM "file:///etc/passwd">', None),
    ('<!DOCTYPE bpmn:definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>', ("Retenir l'EPCI", "&secret;")),
    (BILLION_LAUGHS, ("Retenir l'EPCI", "&lol9;")),
    ("<!DOCTYPE bpmn:definitions>", None),
], ids=["internal-entity", "external-dtd", "external-entity", "billion-laughs", "bare-doctype"])
def test_a_bpmn_file_with_a_doctype_is_refused_naming_the_file(doctype, replace):
    files = _with_doctype(read_model_files(ROOT), CONTACT, doctype, replace)
    with pytest.raises(Invalid) as caught:
        parse_models(files, check_forms=False)
    assert caught.value.file == CONTACT
    assert "DOCTYPE" in str(caught.value) and CONTACT in caught.value.params["detail"]


def test_a_dmn_file_with_a_doctype_is_refused_naming_the_file():
    name = "processes/avis_jury.dmn"
    files = _with_doctype(read_model_files(ROOT), name, "<!DOCTYPE definitions [<!ENTITY x 'y'>]>")
    with pytest.raises(Invalid) as caught:
        parse_models(files, check_forms=False)
    assert caught.value.file == name and "DOCTYPE" in str(caught.value)


def test_deploy_refuses_a_doctype_and_the_current_version_stays(bare_engine):
    first = bare_engine.deploy_directory(ROOT, author="tests")
    files = _with_doctype(read_model_files(ROOT), CONTACT, "<!DOCTYPE bpmn:definitions [<!ENTITY a 'b'>]>")
    with pytest.raises(Invalid, match="DOCTYPE"):
        bare_engine.deploy(files, author="tests")
    with bare_engine.db.engine.connect() as connection:
        assert bare_engine.deployments.current_id(connection) == first.id


def test_the_models_without_a_doctype_still_parse():
    assert parse_models(read_model_files(ROOT), check_forms=False)


# -- PostgreSQL: migrations, lock order, lost connections ----------------------------------------------

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (DSDT_TEST_POSTGRES_URL)")


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    return database_url


def _verified(engine) -> None:
    report = engine.verify()
    assert report.chain_ok and not report.diverged and report.verified == report.instances


@postgres_only
def test_processes_starting_together_on_an_empty_database_migrate_once(postgres_url, clock, script_engine):
    """Before: every process migrated at start with no lock; on an empty database most of them
    died on ``UniqueViolation pg_type_typname_nsp_index``."""
    code = "import sys; from engine import Database; print(len(Database(sys.argv[1]).upgrade()))"
    started = [subprocess.Popen([sys.executable, "-c", code, postgres_url], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outcomes = [(process.returncode, out, err) for process in started
                for out, err in [process.communicate(timeout=120)]]
    assert all(code == 0 for code, _, _ in outcomes), [err for code, _, err in outcomes if code][0]
    applied = sorted(int(out) for _, out, _ in outcomes)
    assert applied[:3] == [0, 0, 0] and applied[3] > 0  # one migrated; the others found it done
    db = Database(postgres_url)
    try:
        current, head = db.revisions()
        assert current == head
        engine = WorkflowEngine(db, clock, script_engine)
        engine.deploy_directory(ROOT, author="tests")
        engine.save_campaign(*campaigns_api.historical_campaign())
        Walker(engine, clock).start()
        _verified(engine)
    finally:
        db.dispose()


@postgres_only
def test_a_service_refuses_to_start_on_a_schema_not_migrated_and_says_to_run_migrate(postgres_url):
    config = EngineConfig(postgres_url, script_workers=1)
    with pytest.raises(Unavailable) as caught:
        WorkflowEngine.from_config(config, upgrade=None)
    assert caught.value.code == "schema.outdated" and "dsdt migrate" in str(caught.value)
    db = Database(postgres_url)
    db.upgrade()
    db.dispose()
    WorkflowEngine.from_config(config, upgrade=None).close()  # migrated: it starts


def test_the_embedded_sqlite_default_still_migrates_at_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'embedded.sqlite'}"
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), upgrade=None)
    try:
        current, head = engine.db.revisions()
        assert current == head
    finally:
        engine.close()


def _engines(url, clock, script_engine, count):
    """``count`` engines on ``url``, each standing for a separate process (cache, pool, locks)."""
    return [WorkflowEngine(Database(url), clock, script_engine) for _ in range(count)]


@postgres_only
def test_commands_and_timer_workers_on_overdue_dossiers_never_deadlock(postgres_url, engine, clock, script_engine):
    """Before: a worker locked the timer rows then inserted the journal entry; a person's command
    that fired the same timers itself did the reverse. 5 of 100 commands died on DeadlockDetected."""
    walker = Walker(engine, clock)
    fiches = []
    for _ in range(8):
        iid = walker.start()
        walker.through_contact(iid)
        view = walker.view(iid, "fiche")
        fiches.append((iid, view.ref, walker.form(view)))
    clock.set(datetime(2014, 12, 2, 12, tzinfo=UTC))  # the fiche deadline has passed for all of them
    workers = _engines(postgres_url, clock, script_engine, 3)
    people = _engines(postgres_url, clock, script_engine, 4)
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(workers) + len(people))

    def work(worker):
        barrier.wait()
        try:
            for _ in range(5):
                worker.fire_due_timers()
        except BaseException as err:  # noqa: BLE001 - every failure is the test's finding
            failures.append(err)

    def complete(person, order):
        barrier.wait()
        for iid, ref, data in order:
            try:
                person.complete(walker.porteur, iid, ref, data)
            except (Conflict, NotFound):
                pass  # the deadline closed the step first: the answer a person gets
            except BaseException as err:  # noqa: BLE001
                failures.append(err)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    threads += [threading.Thread(target=complete, args=(p, fiches[n:] + fiches[:n])) for n, p in enumerate(people)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not failures, failures
        assert {engine.instance(iid).outcome for iid, _, _ in fiches} == {"hors_delai"}
        with engine.db.engine.connect() as connection:
            fired = connection.execute(text("SELECT count(*) FROM journal_entry WHERE command = 'fire_timers'"))
            assert fired.scalar_one() == len(fiches)  # each deadline fired once, by whoever came first
        _verified(engine)
    finally:
        for other in workers + people:
            other.db.dispose()


def _terminate(postgres_url: str, application_name: str) -> int:
    """Terminate the backends of one application name, as a PostgreSQL restart would (only ours:
    other tests share the server)."""
    admin = create_engine(postgres_url.split("?")[0])
    try:
        with admin.begin() as connection:
            return len(connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"
                " AND pid <> pg_backend_pid()"), {"name": application_name}).all())
    finally:
        admin.dispose()


@pytest.fixture
def named_url(postgres_url):
    """``(url, name)``: the test database with a unique ``application_name`` to find its backends by."""
    name = f"dsdt-test-{uuid.uuid4().hex[:10]}"
    return f"{postgres_url}&application_name={name}", name


@pytest.fixture
def started(named_url, clock, script_engine):
    """``(engine, walker, iid, drop)``: an engine on ``named_url`` with one dossier started, and
    ``drop()``, which terminates its connections as a PostgreSQL restart would."""
    url, name = named_url
    db = Database(url)
    db.upgrade()
    engine = WorkflowEngine(db, clock, script_engine)
    try:
        engine.deploy_directory(ROOT, author="tests")
        engine.save_campaign(*campaigns_api.historical_campaign())
        walker = Walker(engine, clock)
        yield engine, walker, walker.start(), lambda: _terminate(url.split("&application_name")[0], name)
    finally:
        db.dispose()


@postgres_only
def test_the_first_command_after_the_connections_were_dropped_while_idle_succeeds(started):
    """Before: no pool_pre_ping; after PostgreSQL restarted, each process's first request failed (500)."""
    engine, walker, iid, drop = started
    assert drop() >= 1  # the pooled, idle connection
    walker.do(iid, "contact", epci="CAB")  # a command
    assert engine.instance(iid).epci == "CAB"  # and a read
    _verified(engine)


@postgres_only
def test_a_command_whose_connection_is_lost_midway_runs_again_and_is_recorded_once(started, monkeypatch):
    engine, walker, iid, drop = started
    fetch, calls = service.instances.fetch, []

    def fetch_then_lose_the_connection(connection, instance_id, **options):
        found = fetch(connection, instance_id, **options)
        calls.append(instance_id)
        if len(calls) == 1:  # the server goes away in the middle of the first attempt
            drop()
        return found

    monkeypatch.setattr(service.instances, "fetch", fetch_then_lose_the_connection)
    walker.do(iid, "contact", epci="CAB")
    assert len(calls) == 2
    monkeypatch.undo()
    with engine.db.engine.connect() as connection:
        completes = connection.execute(text("SELECT count(*) FROM journal_entry WHERE command = 'complete'"))
        assert completes.scalar_one() == 1
    _verified(engine)


@postgres_only
def test_a_command_still_failing_after_the_retries_is_unavailable_and_changes_nothing(started, monkeypatch):
    engine, walker, iid, drop = started
    fetch = service.instances.fetch

    def always_lost(connection, instance_id, **options):
        found = fetch(connection, instance_id, **options)
        drop()
        return found

    monkeypatch.setattr(service.instances, "fetch", always_lost)
    view = walker.view(iid, "contact")
    with pytest.raises(Unavailable) as caught:
        engine.complete(walker.porteur, iid, view.ref, walker.form(view, epci="CAB"))
    assert caught.value.code == "service.unavailable" and caught.value.retry_after > 0
    monkeypatch.undo()
    assert walker.steps(iid) == ["contact"]  # nothing recorded
    _verified(engine)


def test_transient_failures_are_told_from_the_others():
    import sqlite3

    from sqlalchemy.exc import IntegrityError, OperationalError

    locked = OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
    duplicate = IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert transient.is_transient(locked) and not transient.is_transient(duplicate)
    assert not transient.is_transient(ValueError("x"))
    assert isinstance(transient.as_unavailable(locked), Unavailable)
    assert transient.as_unavailable(duplicate) is None
