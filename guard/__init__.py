"""The server's guard at the Flask/WSGI level: security headers, the Host allow-list, the
body limit, rate limits and the failed-callback log. ``install(app, config)`` puts them on."""

from guard.headers import QuietRequestHandler
from guard.install import install

__all__ = ["QuietRequestHandler", "install"]
