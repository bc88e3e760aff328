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
import tempfile
from pathlib import Path

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

# Each worker writes its metrics samples here and GET /metrics adds them up (prometheus
# client's multi-process mode). Set before the application (and prometheus_client) loads;
# emptied at every start, so that a dead worker's counters never count twice.
_METRICS = Path(
    os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="docexchange-metrics-")
)
_METRICS.mkdir(parents=True, exist_ok=True, mode=0o700)
for _old in _METRICS.glob("*.db"):  # prometheus_client's sample files, and nothing else
    _old.unlink()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_METRICS)
# The request id on every access line (nginx may pass its own in X-Request-Id).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms id=%({x-request-id}o)s'


def child_exit(_server: object, worker: object) -> None:
    """A worker that ended keeps its counters, but no longer counts in live gauges."""
    from prometheus_client import multiprocess  # noqa: PLC0415 - after the directory is set

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
