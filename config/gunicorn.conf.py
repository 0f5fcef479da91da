"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py`.

Every value can be changed through the environment (see docs/deployment.md). Put a reverse proxy
(nginx, Caddy) in front that terminates TLS and sets X-Forwarded-Proto; static files are served by
WhiteNoise from STATIC_ROOT after `manage.py collectstatic`.
"""

import os

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads share a process's memory and database connections; 2-4 processes per core is typical.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then (guards against slow leaks); jitter avoids restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Trust X-Forwarded-* only from the proxy in front (comma-separated addresses, or * behind a
# private network).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Kehu logs one structured line per request itself (kehu.request, with the request id), so the
# access log is off by default; set GUNICORN_ACCESS_LOG=- to get gunicorn's as well.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Request line and header limits stay at gunicorn's (safe) defaults.
# gunicorn's runtime control socket is not needed under systemd and would be shared by every
# instance on the machine (~/.gunicorn/gunicorn.ctl).
control_socket_disable = True
