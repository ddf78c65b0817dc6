"""One-off commands never migrate PostgreSQL (issue 12): ``deploy``, ``verify``, ``token``,
``simulate`` and ``seal`` refuse a schema not at this release's revision, saying to run ``dsdt
migrate``, and create nothing; only ``dsdt migrate`` migrates. A SQLite file still migrates."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from engine import Database
from webapp.cli import main

COMMANDS = [["deploy"], ["verify"], ["token", "admin"], ["simulate", "-n", "1", "--no-baseline"], ["seal", "export"]]


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    return database_url


def _tables(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM information_schema.tables"
                                           " WHERE table_schema = current_schema()")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command[0])
def test_a_command_refuses_a_postgresql_schema_not_migrated_and_creates_nothing(postgres_url, command):
    result = CliRunner().invoke(main, [*command, "--database", postgres_url])
    assert result.exit_code == 2, result.output
    assert f"dsdt {' '.join(command[:2 if command[0] == 'seal' else 1])} not started" in result.stderr
    assert "dsdt migrate" in result.stderr
    assert _tables(postgres_url) == 0


def test_after_dsdt_migrate_the_commands_run(postgres_url):
    assert CliRunner().invoke(main, ["migrate", "--database", postgres_url]).exit_code == 0
    deployed = CliRunner().invoke(main, ["deploy", "--database", postgres_url])
    assert deployed.exit_code == 0, deployed.output
    assert CliRunner().invoke(main, ["verify", "--database", postgres_url]).exit_code == 0


def test_a_sqlite_file_is_still_migrated_by_the_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    result = CliRunner().invoke(main, ["verify", "--database", url])
    assert result.exit_code == 0, result.output
    current, head = Database(url).revisions()
    assert current == head
