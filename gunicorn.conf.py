"""gunicorn's settings for ``webapp.wsgi:app`` (README, *Production*).

gthread workers: a request waiting on the database or on a password check (argon2, in a pool as
large as these threads) leaves the worker's other threads serving. ``WEB_CONCURRENCY`` (processes, 2) and
``PORT`` (8000) are the usual variables; any other gunicorn option goes in ``GUNICORN_CMD_ARGS``
(``--threads 8``), which overrides this file. Keep workers × threads within the database pool
(``DSDT_DB_POOL_SIZE`` + ``DSDT_DB_MAX_OVERFLOW``, 20 by default) per process.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 8
timeout = 60
graceful_timeout = 30
# The application's records are JSON on stderr (webapp.log_format); gunicorn's own go there too.
errorlog = "-"
