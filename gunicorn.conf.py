"""gunicorn settings for Outreach Desk; each can be overridden by an environment variable."""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
# SQLite has one writer at a time, so a couple of workers with threads is enough;
# on PostgreSQL set WEB_WORKERS to about two per core.
workers = int(os.environ.get("WEB_WORKERS", min(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("WEB_THREADS", 4))
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak can never grow without bound.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", 20000))
max_requests_jitter = 2000
accesslog = os.environ.get("ACCESS_LOG", None)
errorlog = "-"
