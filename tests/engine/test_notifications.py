"""New tasks notify the people who can do them; the worker sends the outbox by SMTP."""

from __future__ import annotations

import socketserver
import threading
from types import SimpleNamespace

import pytest

from engine import AccountService, Invalid, NotificationCenter, SmtpSettings, StoredNotifier
from engine.notifications_store import MAX_ATTEMPTS
from engine.persistence.models import OutboxEmail, User
from engine.timers import Worker
from tests.factories import Walker


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive messages: a test peer for the real smtplib client."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 test\r\n")
            elif command == "DATA":
                self.wfile.write(b"354 go on\r\n")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data.decode())
                self.server.messages.append("".join(body))
                self.wfile.write(b"250 queued\r\n")
            elif command == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            elif command.startswith("RCPT TO") and (answer := self.server.refused.get(command[9:].strip("<> "))):
                self.wfile.write(answer.encode() + b"\r\n")
            else:  # MAIL FROM, RCPT TO, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    server.refused = {}  # address (upper case, as the handler sees it) -> the server's answer
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_new_task_is_notified_in_app_and_mailed_by_the_worker(engine, clock, smtp_server):
    engine.notifier = StoredNotifier()
    accounts = AccountService(engine.db, clock)
    accounts.create("tech.commune.cab", "motdepasse-long-1", roles=["technicien_commune"], epci=["CAB"],
                    email="technicien@cab.example.org")
    accounts.create("tech.commune.cavm", "motdepasse-long-2", roles=["technicien_commune"], epci=["CAVM"],
                    email="technicien@cavm.example.org")
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    center = NotificationCenter(engine.db, clock, SmtpSettings("127.0.0.1", smtp_server.server_address[1]))
    outbox = center.outbox()
    assert [mail.recipient for mail in outbox] == ["technicien@cab.example.org"]  # not the CAVM one
    assert outbox[0].sent_at is None
    worker = Worker(engine, interval=0.01, jobs=[center.send_pending])
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        for _ in range(500):
            if center.outbox()[0].sent_at is not None:
                break
            threading.Event().wait(0.01)
    finally:
        worker.stop()
        thread.join()
    assert center.outbox()[0].sent_at is not None
    assert len(smtp_server.messages) == 1 and "technicien@cab.example.org" in smtp_server.messages[0]


def test_a_failing_job_does_not_stop_the_worker(engine):
    calls = []

    def broken():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError("SMTP down")
        return 0

    worker = Worker(engine, interval=0.01, jobs=[broken])
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        for _ in range(200):
            if len(calls) >= 3:
                break
            threading.Event().wait(0.01)
    finally:
        worker.stop()
        thread.join()
    assert len(calls) >= 3


def test_a_refused_recipient_does_not_hold_up_the_messages_after_it(engine, clock, smtp_server):
    smtp_server.refused = {"NOBODY@CAB.EXAMPLE.ORG": "550 5.1.1 no such user",
                           "FULL@CAVM.EXAMPLE.ORG": "452 4.2.2 mailbox full"}
    recipients = ["a@cab.example.org", "nobody@cab.example.org", "full@cavm.example.org", "b@cab.example.org"]
    with engine.db.sessions.begin() as session:
        session.add_all(OutboxEmail(recipient=to, subject=f"[DSDT] {to}", body="Bonjour", created_at=clock.now())
                        for to in recipients)
    center = NotificationCenter(engine.db, clock, SmtpSettings("127.0.0.1", smtp_server.server_address[1]))

    assert center.send_pending() == 2  # the two good addresses, on either side of the refused ones
    assert len(smtp_server.messages) == 2
    mails = {mail.recipient: mail for mail in center.outbox()}
    assert mails["a@cab.example.org"].sent_at and mails["b@cab.example.org"].sent_at
    permanent, temporary = mails["nobody@cab.example.org"], mails["full@cavm.example.org"]
    assert permanent.failed_at is not None and permanent.attempts == 1 and "no such user" in permanent.last_error
    assert temporary.failed_at is None and temporary.attempts == 1 and "mailbox full" in temporary.last_error

    assert center.send_pending() == 0  # the 4xx one waits for its back-off
    assert {mail.recipient: mail for mail in center.outbox()}["full@cavm.example.org"].attempts == 1
    for _ in range(MAX_ATTEMPTS):  # a 4xx refusal is tried again, up to MAX_ATTEMPTS, then set aside
        clock.advance(days=1)
        assert center.send_pending() == 0
    mails = {mail.recipient: mail for mail in center.outbox()}
    assert mails["full@cavm.example.org"].attempts == MAX_ATTEMPTS
    assert mails["full@cavm.example.org"].failed_at is not None
    assert mails["nobody@cab.example.org"].attempts == 1  # never tried again
    assert len(smtp_server.messages) == 2


def test_a_line_break_in_a_header_never_holds_up_the_messages_around_it(engine, clock, smtp_server):
    """Header injection is refused on the message; the ones before it are sent once, the ones after it too."""
    queued = [("a@cab.example.org", "[DSDT] premier"),
              ("b@cab.example.org", "[DSDT] sujet\r\nBcc: tous@example.org"),
              ("c@cab.example.org\nBcc: tous@example.org", "[DSDT] adresse"),
              ("d@cab.example.org", "[DSDT] sujet\u2028second"),
              ("e@cab.example.org", "[DSDT] dernier")]
    with engine.db.sessions.begin() as session:
        session.add_all(OutboxEmail(recipient=to, subject=subject, body="Bonjour", created_at=clock.now())
                        for to, subject in queued)
    center = NotificationCenter(engine.db, clock, SmtpSettings("127.0.0.1", smtp_server.server_address[1]))

    assert center.send_pending() == 2
    clock.advance(days=1)
    assert center.send_pending() == 0  # nothing sent twice, nothing refused tried again

    assert len(smtp_server.messages) == 2
    assert not any("tous@example.org" in message for message in smtp_server.messages)
    mails = {mail.subject: mail for mail in center.outbox()}
    assert mails["[DSDT] premier"].sent_at and mails["[DSDT] dernier"].sent_at
    for subject in ("[DSDT] sujet\r\nBcc: tous@example.org", "[DSDT] adresse", "[DSDT] sujet\u2028second"):
        refused = mails[subject]
        assert refused.sent_at is None and refused.failed_at is not None and refused.attempts == 1
        assert "line break or control character" in refused.last_error


def test_a_message_that_cannot_be_encoded_is_set_aside_after_its_attempts(engine, clock, smtp_server):
    """Anything else one message raises is recorded on it: the pass goes on."""
    with engine.db.sessions.begin() as session:
        session.add_all([OutboxEmail(recipient="déjà@cab.example.org", subject="[DSDT] accent", body="Bonjour",
                                     created_at=clock.now()),
                         OutboxEmail(recipient="b@cab.example.org", subject="[DSDT] bon", body="Bonjour",
                                     created_at=clock.now())])
    center = NotificationCenter(engine.db, clock, SmtpSettings("127.0.0.1", smtp_server.server_address[1]))
    for _ in range(MAX_ATTEMPTS):
        center.send_pending()
        clock.advance(days=1)
    mails = {mail.subject: mail for mail in center.outbox()}
    assert mails["[DSDT] bon"].sent_at is not None and len(smtp_server.messages) == 1
    accent = mails["[DSDT] accent"]
    assert accent.attempts == MAX_ATTEMPTS and accent.failed_at is not None and accent.last_error


def test_a_queued_message_never_carries_a_line_break_into_its_headers(engine, clock):
    accounts = AccountService(engine.db, clock)
    accounts.create("tech.commune.cab", "motdepasse-long-1", roles=["technicien_commune"], epci=["CAB"],
                    email="technicien@cab.example.org")
    accounts.create("ancien", "motdepasse-long-3", roles=["technicien_commune"], epci=["CAB"])
    with engine.db.engine.begin() as connection:  # an address stored before addresses were checked
        connection.execute(User.__table__.update().where(User.login == "ancien")
                           .values(email="ancien@cab.example.org\r\nBcc: tous@example.org"))
    instance = SimpleNamespace(id=None, ref="DSDT-00001", title="Jardins\r\nBcc: tous@example.org", epci="CAB")
    task = SimpleNamespace(name="Donner l'avis", assignee=None, role="technicien_commune", ref="t.0",
                           bpmn_id="avis_commune")
    iid = Walker(engine, clock).start()
    instance.id = iid
    with engine.db.engine.begin() as connection:
        StoredNotifier().tasks_opened(connection, instance, [task], clock.now())

    mails = {mail.recipient: mail for mail in NotificationCenter(engine.db, clock).outbox()}
    good = mails["technicien@cab.example.org"]
    assert "\r" not in good.subject and "\n" not in good.subject and "Jardins Bcc" in good.subject
    assert good.failed_at is None
    refused = mails["ancien@cab.example.org\r\nBcc: tous@example.org"]
    assert refused.failed_at is not None and "line break or control character" in refused.last_error


class _CountingNotifier:
    """The stored notifier, counting what it reads: rows handed back to Python (through SQLAlchemy
    or the driver's cursors), and on SQLite the virtual-machine steps of its statements (the
    database's own work, rows scanned included)."""

    def __init__(self):
        self.inner = StoredNotifier()
        self.rows = []
        self.steps = []

    def tasks_opened(self, connection, instance, tasks, now):
        rows, steps = [0], [0]

        def step():
            steps[0] += 1
            return 0  # go on

        class Cursor:
            def __init__(self, cursor):
                self._cursor = cursor

            def __getattr__(self, name):
                return getattr(self._cursor, name)

            def fetchall(self):
                fetched = self._cursor.fetchall()
                rows[0] += len(fetched)
                return fetched

        class Driver:
            def __init__(self, driver):
                self._driver = driver

            def __getattr__(self, name):
                return getattr(self._driver, name)

            def cursor(self):
                return Cursor(self._driver.cursor())

        real = connection
        pooled = SimpleNamespace(driver_connection=Driver(real.connection.driver_connection))

        class Counted:  # the connection, with each result's rows counted as they are handed over
            dialect = real.dialect
            connection = pooled  # what engine.persistence.raw reaches the driver through

            def execute(self, *args, **kwargs):
                result = real.execute(*args, **kwargs)
                if not result.returns_rows:
                    return result
                frozen = result.freeze()
                rows[0] += len(frozen.data)
                return frozen()

        raw = connection.connection.driver_connection
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            raw.set_progress_handler(step, 1)
        try:
            self.inner.tasks_opened(Counted(), instance, tasks, now)
        finally:
            if sqlite:
                raw.set_progress_handler(None, 1)
        self.rows.append(rows[0])
        self.steps.append(steps[0])


def test_a_commands_notifier_reads_no_more_with_thousands_more_accounts(engine, clock, monkeypatch):
    """Issue 13: the notifier read every active account with an address, for every command that
    opened a task. What it reads now depends on the task's people, not on how many accounts exist."""
    from engine import accounts as accounts_module

    monkeypatch.setattr(accounts_module, "hash_password", lambda password: "argon2-not-needed-here")
    accounts = AccountService(engine.db, clock)
    accounts.create("tech.commune.cab", "motdepasse-long-1", roles=["technicien_commune"], epci=["CAB"],
                    email="technicien@cab.example.org")
    accounts.create("asso.alpha", "motdepasse-long-1", roles=["porteur"], email="alpha@example.org")
    counting = _CountingNotifier()
    engine.notifier = counting
    walker = Walker(engine, clock)

    def one_application():
        """Start (a porteur task, by assignee) and contact (a local role task): what the notifier read."""
        counting.rows.clear(), counting.steps.clear()
        walker.do(walker.start(), "contact", epci="CAB")
        return list(counting.rows), list(counting.steps)

    before = one_application()
    for n in range(3000):
        accounts.create(f"asso.{n:05d}", "motdepasse-long-1", roles=["porteur"], email=f"asso{n}@example.org")
    after = one_application()

    assert before[0] == after[0] == [1, 1]  # one recipient each: the porteur, then the CAB technicien
    if engine.db.is_sqlite:
        assert after[1] == before[1]
    mails = NotificationCenter(engine.db, clock).outbox()
    assert [mail.recipient for mail in mails][:2] == ["technicien@cab.example.org", "alpha@example.org"]


def test_a_mail_names_the_step_and_links_to_its_page_without_internal_ids(engine, clock):
    accounts = AccountService(engine.db, clock)
    accounts.create("tech.commune.cab", "motdepasse-long-1", roles=["technicien_commune"], epci=["CAB"],
                    email="technicien@cab.example.org")
    iid = Walker(engine, clock).start()
    instance = SimpleNamespace(id=iid, ref="DSDT-00001", title="Jardins", epci="CAB")
    task = SimpleNamespace(name="Donner l'avis", assignee=None, role="technicien_commune", ref="avis/1 2",
                           bpmn_id="avis_commune")
    notifier = StoredNotifier(task_link="https://dsdt.example.org/dossiers/{instance_id}/etape/{task_ref}")
    with engine.db.engine.begin() as connection:
        notifier.tasks_opened(connection, instance, [task], clock.now())

    body = NotificationCenter(engine.db, clock).outbox()[0].body
    assert "« Donner l'avis »" in body
    assert f"https://dsdt.example.org/dossiers/{iid}/etape/avis/1%202" in body  # quoted: one clickable link
    assert "avis_commune" not in body and "étape avis" not in body


def test_the_outbox_is_read_one_page_at_a_time_with_each_messages_state(engine, clock):
    from engine import Outbox

    now = clock.now()
    with engine.db.sessions.begin() as session:
        session.add_all([OutboxEmail(recipient=f"p{n}@example.org", subject="s", body="b", created_at=now)
                         for n in range(5)])
        session.add(OutboxEmail(recipient="sent@example.org", subject="s", body="b", created_at=now, sent_at=now))
        session.add(OutboxEmail(recipient="later@example.org", subject="s", body="b", created_at=now, attempts=1,
                                last_error="(452, b'mailbox full')"))
        session.add(OutboxEmail(recipient="never@example.org", subject="s", body="b", created_at=now, attempts=1,
                                last_error="(550, b'no such user')", failed_at=now))
    outbox = Outbox(engine.db)
    first = outbox.page(1, per_page=3)
    assert first.total == 8 and first.pages == 3 and first.counts == {"queued": 5, "failed": 1, "set_aside": 1,
                                                                        "sent": 1}
    assert [row.recipient for row in first.rows] == ["never@example.org", "later@example.org", "sent@example.org"]
    assert first.states == ["set_aside", "failed", "sent"]
    beyond = outbox.page(10_000, per_page=3)
    assert beyond.page == 3 and [row.recipient for row in beyond.rows] == ["p1@example.org", "p0@example.org"]
    assert outbox.page(0, per_page=3).page == 1
    queued = outbox.page(1, per_page=50, state="queued")
    assert queued.total == 5 and set(queued.states) == {"queued"}
    with pytest.raises(Invalid) as refused:
        outbox.page(1, state="lost")
    assert refused.value.code == "outbox.state"
