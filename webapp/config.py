"""Web settings: defaults, then ``DSDT_`` environment variables. Only this module reads the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULTS = {
    "DSDT_DATABASE_URL": None,  # None: the engine's embedded SQLite under instance/
    "DSDT_SMTP_HOST": None,
    "DSDT_SMTP_PORT": 25,
    "DSDT_SMTP_SENDER": "dsdt@localhost",
    "DSDT_SMTP_USERNAME": None,
    "DSDT_SMTP_PASSWORD": None,
    "DSDT_SMTP_STARTTLS": False,
    "DSDT_INBOX_PER_PAGE": 25,
    "DSDT_OUTBOX_PER_PAGE": 50,
    "DSDT_SESSION_IDLE_MINUTES": 30,  # a session unused this long ends
    "DSDT_SESSION_MAX_HOURS": 12,  # and any session ends this long after its login
    "DSDT_LOG_FORMAT": None,  # json or text; None: json under webapp.wsgi and dsdt worker, text elsewhere
    "DSDT_MAX_UPLOAD_BYTES": 10 * 1024 * 1024,  # one attachment
    "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,  # a whole form with attachments
    "MAX_FORM_MEMORY_SIZE": 512 * 1024,  # form fields without files (413 beyond), as engine.forms.MAX_FORM_BYTES
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "LANGUAGES": ("fr", "en"),
}

_BOOL = {"1": True, "true": True, "yes": True, "oui": True, "0": False, "false": False, "no": False, "non": False}


def from_env(environ=None) -> dict:
    """``DSDT_*`` variables (and ``SECRET_KEY``), converted to the type of their default."""
    env = os.environ if environ is None else environ
    found = {}
    for key, default in DEFAULTS.items():
        if key in env:
            raw = env[key]
            if isinstance(default, bool):
                found[key] = _BOOL.get(raw.lower(), False)
            elif isinstance(default, int):
                found[key] = int(raw)
            else:
                found[key] = raw
    if env.get("DSDT_SECRET_KEY"):
        found["SECRET_KEY"] = env["DSDT_SECRET_KEY"]
    if env.get("DSDT_SESSION_COOKIE_SECURE"):
        found["SESSION_COOKIE_SECURE"] = _BOOL.get(env["DSDT_SESSION_COOKIE_SECURE"].lower(), False)
    return found


def log_format(environ=None) -> str | None:
    """``DSDT_LOG_FORMAT`` as set (None when unset); :mod:`webapp.log_format` checks it."""
    env = os.environ if environ is None else environ
    return env.get("DSDT_LOG_FORMAT") or None


def instance_secret_key(instance_path: str) -> str:
    """The secret key kept in ``instance/secret_key`` (created once, never in the repository)."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


#: the X-Forwarded-* headers ``ProxyFix`` may trust, by setting (see :mod:`webapp.proxy`)
PROXY_FIX = {"x_for": "DSDT_PROXY_FIX_X_FOR", "x_proto": "DSDT_PROXY_FIX_X_PROTO", "x_host": "DSDT_PROXY_FIX_X_HOST",
             "x_port": "DSDT_PROXY_FIX_X_PORT", "x_prefix": "DSDT_PROXY_FIX_X_PREFIX"}


def proxy_fix(environ=None) -> dict[str, int]:
    """How many proxies set each X-Forwarded-* header (``DSDT_PROXY_FIX_X_FOR=1`` etc., unset: 0);
    ValueError naming the setting unless a whole number from 0 to 10."""
    env = os.environ if environ is None else environ
    hops = {}
    for name, key in PROXY_FIX.items():
        raw = (env.get(key) or "0").strip()
        if not raw.isdigit() or int(raw) > 10:
            raise ValueError(f"{key} is {raw!r:.20}: give the number of proxies that set the header, 0 to 10.")
        hops[name] = int(raw)
    return hops
