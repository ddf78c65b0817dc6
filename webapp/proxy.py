"""Behind a reverse proxy: werkzeug's ``ProxyFix``, driven by the ``DSDT_PROXY_FIX_*`` settings.

Without it, every request seems to come from the proxy: the login throttle (``webapp.auth``)
counts everyone's failures against one address and locks everyone out at once, and the logs
name the proxy. Each setting is the number of proxies in front of the app that set that header
(0: the header is ignored, as it must be when no proxy sets it: anyone could forge it).
"""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix


def behind_proxy(wsgi_app, hops: dict[str, int]):
    """``wsgi_app`` wrapped in ``ProxyFix`` trusting ``hops`` (:func:`webapp.config.proxy_fix`);
    as it is when no header is trusted."""
    if not any(hops.values()):
        return wsgi_app
    return ProxyFix(wsgi_app, **hops)
