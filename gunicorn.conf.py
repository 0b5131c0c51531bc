"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_* below) or the command line.
The scheduler is NOT started here: it runs as its own process (`flask --app pdtracker scheduler`).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers rarely: each restart rebuilds the app and empties the per-worker feed
# and dashboard caches (the benchmark saw 1.6–2.4 s stalls at 5,000); the wide jitter
# keeps the workers from restarting together.
max_requests = 100_000
max_requests_jitter = 50_000
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# Feed tokens live in the path: this logger class redacts them from every access line.
logger_class = "pdtracker.logs.RedactingGunicornLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'
# docs/deployment.md D5: no connection or thread may cross the fork.
preload_app = False  # each worker builds its own app and its own database pool
