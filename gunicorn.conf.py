"""Gunicorn settings for production: ``gunicorn -c gunicorn.conf.py app:server``.

Binds loopback: put the HTTPS reverse proxy (nginx, the site's gateway) in front, and list
its public host name in ``security.allowed_hosts``. ``CITYBRAIN_BIND`` overrides the
address, ``CITYBRAIN_WORKERS`` / ``CITYBRAIN_THREADS`` the process and thread counts.
"""

import os

import gunicorn.http.wsgi

bind = os.environ.get("CITYBRAIN_BIND", "127.0.0.1:8050")
workers = int(os.environ.get("CITYBRAIN_WORKERS", "2"))
threads = int(os.environ.get("CITYBRAIN_THREADS", "4"))
timeout = 60                 # a worker stuck longer than this is replaced
graceful_timeout = 10
keepalive = 5
limit_request_line = 8190    # bytes of the request line (URL with its query)
limit_request_fields = 100   # header count
limit_request_field_size = 8190
control_socket_disable = True   # no admin socket beside the workers
forwarded_allow_ips = os.environ.get("CITYBRAIN_PROXY_IPS", "127.0.0.1")   # whose X-Forwarded-* to trust

# The response's Server header names no product or version.
gunicorn.http.wsgi.SERVER = "cockpit"
