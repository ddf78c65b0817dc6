"""The WSGI entry point for a production server: ``gunicorn 'webapp.wsgi:app'``.

Settings come from the environment (``DSDT_*``, see the README's *Production*). Unlike ``dsdt
run``, nothing is set up here: the schema must have been migrated (``dsdt migrate``) and the models
deployed (``dsdt deploy``); an out-of-date schema stops the process at start, saying so. The secret
key must be given (``DSDT_SECRET_KEY``): a key generated per machine would differ between servers
and log everyone out whenever a request reached another one. Log records are JSON lines on stderr
unless ``DSDT_LOG_FORMAT=text`` (:mod:`webapp.log_format`).
"""

from __future__ import annotations

import os

from . import config, create_app, log_format
from .proxy import behind_proxy

try:  # first: the records of the start-up itself come out in the production format
    log_format.configure(config.log_format(), "json")
except ValueError as err:
    raise RuntimeError(str(err)) from None

if not os.environ.get("DSDT_SECRET_KEY"):
    raise RuntimeError("DSDT_SECRET_KEY is not set: give every web process the same long random value "
                       "(python -c 'import secrets; print(secrets.token_hex(32))'), then start again.")

try:
    _hops = config.proxy_fix()
except ValueError as err:
    raise RuntimeError(str(err)) from None

app = create_app()
# Behind a reverse proxy, the client's address from X-Forwarded-For (DSDT_PROXY_FIX_X_FOR=1...).
app.wsgi_app = behind_proxy(app.wsgi_app, _hops)
