"""Security headers on every response: a strict Content-Security-Policy and friends, and
HSTS when the request came over HTTPS.

Behind a reverse proxy that terminates TLS, set ``KB_TRUSTED_PROXIES`` (config or
environment) to the number of proxies in front: then ``X-Forwarded-For`` and
``X-Forwarded-Proto`` from them are believed (Werkzeug's ProxyFix), so the site knows the
request was HTTPS (HSTS, Secure cookies) and who sent it (login throttling). The forwarded
host is never believed; set ``TRUSTED_HOSTS`` (a list, config or ``KB_TRUSTED_HOSTS``,
comma-separated) so that a request naming another host is refused (400).
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


HSTS = "max-age=31536000; includeSubDomains"


def register(app: Flask) -> None:
    """Add :data:`HEADERS` to every response of ``app`` (and HSTS over HTTPS); trust
    ``KB_TRUSTED_PROXIES`` proxies and only ``TRUSTED_HOSTS`` hosts when configured."""
    proxies = int(app.config.get("KB_TRUSTED_PROXIES") or os.environ.get("KB_TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0
        )
    hosts = os.environ.get("KB_TRUSTED_HOSTS")
    if hosts and not app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = [h.strip() for h in hosts.split(",") if h.strip()]

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
