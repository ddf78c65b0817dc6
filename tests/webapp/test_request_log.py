"""The request log (webapp.request_log): one record per request with its method, path, status,
duration, request id and account."""

from __future__ import annotations

import logging


def records(caplog):
    return [r for r in caplog.records if r.name == "webapp.requests"]


def test_one_record_per_request_with_its_fields(client, auth, services, caplog):
    caplog.set_level(logging.INFO, logger="webapp.requests")
    anonymous = client.get("/connexion?next=secret-search", headers={"X-Request-ID": "test-request-0001"})
    assert anonymous.status_code == 200
    [first] = records(caplog)
    assert (first.method, first.path, first.status, first.account_id) == ("GET", "/connexion", 200, None)
    assert first.request_id == "test-request-0001" and first.duration_ms >= 0
    assert "secret-search" not in first.getMessage()  # no query string: it may hold personal data
    caplog.clear()
    auth.login("instructeur1")
    caplog.clear()
    assert client.get("/dossiers/999999").status_code == 404
    [second] = records(caplog)
    assert second.status == 404 and second.account_id == services.accounts.get("instructeur1").id
    assert second.getMessage().startswith("GET /dossiers/999999 404 ")
