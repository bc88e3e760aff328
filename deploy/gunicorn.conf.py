"""gunicorn settings for docexchange: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

Behind a reverse proxy that ends HTTPS (``deploy/nginx-docexchange.conf``). Workers are
processes, each with a few threads: PKCS#11 calls take turns inside a process and tokens
take turns between processes (``pki/token_locks.py``), so signing scales with processes.
The delivery workers are separate processes (``docexchange worker``,
``deploy/docexchange-worker@.service``).

Environment (besides the application's own ``DOCEXCHANGE_*``):
``DOCEXCHANGE_WEB_BIND`` (``127.0.0.1:8000``), ``DOCEXCHANGE_WEB_WORKERS`` (one per core),
``DOCEXCHANGE_WEB_THREADS`` (4), ``DOCEXCHANGE_WEB_PRELOAD`` (``0``; ``1`` loads the app once
in the master: ``wsgi.py`` then leaves no database connection for the workers to share).
"""

import multiprocessing
import os

bind = os.environ.get("DOCEXCHANGE_WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DOCEXCHANGE_WEB_WORKERS", str(multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("DOCEXCHANGE_WEB_THREADS", "4"))
preload_app = os.environ.get("DOCEXCHANGE_WEB_PRELOAD", "0") in {"1", "true", "yes"}
# A signature with its time-stamp and revocation data, or a 50 MB PDF verified in the
# isolated workers, takes seconds, not minutes.
timeout = 120
graceful_timeout = 30
# Workers are replaced now and then, so that a slow leak never grows old.
max_requests = 5000
max_requests_jitter = 500
# The proxy is on this machine; the application trusts X-Forwarded-* only from the
# addresses in DOCEXCHANGE_TRUSTED_PROXIES (ProxyFix), gunicorn only from loopback.
forwarded_allow_ips = "127.0.0.1,::1"
accesslog = "-"
errorlog = "-"
# The request line and headers an official document client sends are short.
limit_request_line = 8190
proc_name = "docexchange-web"
# gunicorn's control socket (``gunicornc``) would sit in the service user's home, shared by
# every gunicorn of that user; systemd already controls the service.
control_socket_disable = True
