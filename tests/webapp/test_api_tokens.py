"""`dsdt token`: a token printed once, usable at once on the API, revocable."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from engine import AccountService, EngineConfig, LoginFailed, WorkflowEngine
from webapp.cli import main


def test_token_command_creates_then_revokes(tmp_path):
    url = f"sqlite:///{tmp_path / 'tokens.sqlite'}"
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1))
    accounts = AccountService(engine.db, engine.clock)
    accounts.create("script.user", "long enough password", roles=["instructeur"])
    runner = CliRunner()
    try:
        made = runner.invoke(main, ["token", "script.user", "--label", "export", "--database", url])
        assert made.exit_code == 0, made.output
        token = made.stdout.strip()
        assert len(token) >= 40 and "\n" not in token
        assert accounts.by_token(token).login == "script.user"
        assert "ne sera plus affiché" in made.stderr

        unknown = runner.invoke(main, ["token", "nobody", "--database", url])
        assert unknown.exit_code == 2 and "nobody" in unknown.stderr

        revoked = runner.invoke(main, ["token", "script.user", "--revoke", "--label", "export", "--database", url])
        assert revoked.exit_code == 0 and "1 jeton" in revoked.stdout
        with pytest.raises(LoginFailed):
            accounts.by_token(token)
    finally:
        engine.close()
