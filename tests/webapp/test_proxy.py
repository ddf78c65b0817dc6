"""Behind a reverse proxy (issue 12): with ``DSDT_PROXY_FIX_X_FOR=1`` the login throttle counts the
client's address from X-Forwarded-For, not the proxy's; unset, the header is ignored."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text

from webapp import config
from webapp.proxy import behind_proxy

from .conftest import ROOT, AuthActions

CLIENT = "203.0.113.7"


def _failures_from(engine, client: str) -> int:
    with engine.db.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM login_failure WHERE client = :c"),
                                  {"c": client}).scalar_one()


def test_the_settings_default_to_trusting_no_header():
    assert config.proxy_fix({}) == {"x_for": 0, "x_proto": 0, "x_host": 0, "x_port": 0, "x_prefix": 0}
    assert config.proxy_fix({"DSDT_PROXY_FIX_X_FOR": "1", "DSDT_PROXY_FIX_X_PROTO": "1"})["x_for"] == 1


@pytest.mark.parametrize("value", ["yes", "-1", "11", "1.5"])
def test_a_setting_that_is_not_a_small_whole_number_is_refused_naming_it(value):
    with pytest.raises(ValueError, match="DSDT_PROXY_FIX_X_HOST"):
        config.proxy_fix({"DSDT_PROXY_FIX_X_HOST": value})


def _fail_login(app, forwarded: str) -> None:
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    response = AuthActions(client).login("porteur1", "not-the-password")
    assert response.status_code == 401  # the form again, with its error


def test_behind_a_proxy_the_throttle_counts_the_forwarded_client(make_app, engine):
    app = make_app()
    app.wsgi_app = behind_proxy(app.wsgi_app, config.proxy_fix({"DSDT_PROXY_FIX_X_FOR": "1"}))
    before = _failures_from(engine, CLIENT)
    _fail_login(app, CLIENT)
    assert _failures_from(engine, CLIENT) == before + 1


def test_without_the_setting_a_forged_header_is_ignored(make_app, engine):
    app = make_app()
    app.wsgi_app = behind_proxy(app.wsgi_app, config.proxy_fix({}))
    forged = "198.51.100.9"
    _fail_login(app, forged)
    assert _failures_from(engine, forged) == 0


def _wsgi(tmp_path, **env):
    code = ("from webapp import wsgi; fix = wsgi.app.wsgi_app; "
            "print(type(fix).__name__, getattr(fix, 'x_for', None))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "DSDT_SECRET_KEY": "k" * 64, "DSDT_LOG_FORMAT": "text",
                               "DSDT_DATABASE_URL": f"sqlite:///{tmp_path / 'wsgi.sqlite'}", **env})


def test_the_wsgi_entry_wraps_the_app_as_set_and_refuses_a_bad_setting(tmp_path):
    wrapped = _wsgi(tmp_path, DSDT_PROXY_FIX_X_FOR="1")
    assert wrapped.returncode == 0, wrapped.stderr
    assert wrapped.stdout.split() == ["ProxyFix", "1"]
    refused = _wsgi(tmp_path, DSDT_PROXY_FIX_X_FOR="all")
    assert refused.returncode != 0 and "DSDT_PROXY_FIX_X_FOR" in refused.stderr
