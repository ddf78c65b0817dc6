"""Password checks at the peak (issue 12): argon2 runs outside any transaction, at most
``PASSWORD_WORKERS`` at once per process, whatever the number of threads logging in."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update

from engine import AccountService, accounts
from engine.accounts import LoginFailed
from engine.persistence.models import User


@pytest.fixture
def service(bare_engine, clock):
    service = AccountService(bare_engine.db, clock)
    service.create("porteur.peak", "un mot de passe", roles=["porteur"])
    return service


def test_a_login_holds_no_database_connection_while_argon2_runs(service, bare_engine, monkeypatch):
    pool = bare_engine.db.engine.pool
    seen = []
    check = accounts._check

    def watched(password_hash, password):
        seen.append(pool.checkedout())
        return check(password_hash, password)

    monkeypatch.setattr(accounts, "_check", watched)
    assert service.authenticate("porteur.peak", "un mot de passe", client="10.0.0.1").login == "porteur.peak"
    with pytest.raises(LoginFailed):
        service.authenticate("porteur.peak", "pas le bon", client="10.0.0.1")
    with pytest.raises(LoginFailed):
        service.authenticate("personne", "un mot de passe", client="10.0.0.1")  # the dummy hash, checked too
    assert seen == [0, 0, 0]


def test_logins_from_many_threads_check_at_most_password_workers_passwords_at_once(service, monkeypatch):
    running, most, lock = [0], [0], threading.Lock()
    check = accounts._check

    def counted(password_hash, password):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)
            return check(password_hash, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(accounts, "_check", counted)
    with ThreadPoolExecutor(12) as threads:
        logins = list(threads.map(lambda n: service.authenticate("porteur.peak", "un mot de passe",
                                                                 client=f"10.0.0.{n}").login, range(12)))
    assert logins == ["porteur.peak"] * 12
    assert 1 < most[0] <= accounts.PASSWORD_WORKERS == 8


def test_a_password_changed_during_the_check_does_not_let_the_old_one_in(service, bare_engine, monkeypatch):
    check = accounts._check
    new_hash = accounts.hash_password("le nouveau mot de passe")

    def changed_meanwhile(password_hash, password):
        result = check(password_hash, password)
        monkeypatch.setattr(accounts, "_check", check)
        with bare_engine.db.engine.begin() as conn:  # another process changes the password meanwhile
            conn.execute(update(User).where(User.login == "porteur.peak").values(password_hash=new_hash))
        return result

    monkeypatch.setattr(accounts, "_check", changed_meanwhile)
    with pytest.raises(LoginFailed):
        service.authenticate("porteur.peak", "un mot de passe", client="10.0.0.1")
    assert service.authenticate("porteur.peak", "le nouveau mot de passe", client="10.0.0.1").login == "porteur.peak"
