"""The counts of the home pages: versions with their dossiers, unresolved incidents, accounts."""

from __future__ import annotations

from sqlalchemy import insert

from engine import AccountService, Overview
from engine.persistence.models import Incident
from tests.factories import Walker


def test_the_overview_counts_versions_incidents_and_accounts(engine, clock, models):
    walker = Walker(engine, clock)
    first = walker.start()
    (models / "forms" / "extra.json").write_text("{}")  # a changed file: a new version
    engine.deploy_directory(models, author="owner", comment="second")
    second = walker.start()
    accounts = AccountService(engine.db, clock)
    accounts.create("actif", "motdepasse-long-1", roles=["instructeur"])
    accounts.create("parti", "motdepasse-long-2", roles=["instructeur"])
    accounts.update("parti", active=False)
    now = clock.now()
    with engine.db.engine.begin() as connection:
        for instance_id, kind, values in ((first, "timer", {}), (second, "timer", {"set_aside_at": now}),
                                          (first, "command", {"resolved_at": now})):
            connection.execute(insert(Incident).values(instance_id=instance_id, kind=kind, error="e", first_seen_at=now,
                                                       last_seen_at=now, attempts=1, **values))

    overview = Overview(engine.db)
    versions = overview.versions()
    assert [(v.version, v.current, v.comment, v.dossiers, v.running) for v in versions] == [
        (2, True, "second", 1, 1), (1, False, "", 1, 1)]
    counts = overview.incidents()
    assert (counts.open, counts.set_aside, counts.unresolved) == (1, 1, 2)
    assert overview.accounts() == (1, 2)
