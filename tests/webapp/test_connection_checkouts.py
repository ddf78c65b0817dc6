"""Connection checkouts per web request: a request takes its database connection from the pool
once, however many reads and commands it runs (each checkout of a PostgreSQL pool pings the
server first). The counts are upper bounds, so that a change taking more fails here."""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from .test_tasks import _contact_form, _start

#: the most checkouts each request may take (measured: see benchmarks/README.md, deadline_day)
INBOX_PAGE = 1
TASK_PAGE = 1
TASK_POST = 1


@contextlib.contextmanager
def counting(services):
    """Yield a list that grows by one at every checkout from the engine's pool."""
    pool = services.engine.db.engine.pool
    checkouts: list[int] = []

    def checked_out(*_args):
        checkouts.append(1)

    event.listen(pool, "checkout", checked_out)
    try:
        yield checkouts
    finally:
        event.remove(pool, "checkout", checked_out)


def test_inbox_page_takes_one_connection(client, auth, services):
    auth.login("instructeur1")
    with counting(services) as checkouts:
        response = client.get("/taches/")
    assert response.status_code == 200
    assert 1 <= len(checkouts) <= INBOX_PAGE, len(checkouts)


def test_task_page_and_its_form_post(client, auth, services):
    url = _start(client, auth, services)
    with counting(services) as checkouts:
        page = client.get(url).get_data(as_text=True)
    assert 1 <= len(checkouts) <= TASK_PAGE, len(checkouts)

    form = {**_contact_form(page), "csrf_token": auth.token("/connexion")}
    with counting(services) as checkouts:
        response = client.post(url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert 1 <= len(checkouts) <= TASK_POST, len(checkouts)
