"""gunicorn settings for Outreach Desk; each can be overridden by an environment variable.

Used by ``python run.py`` and by ``gunicorn -c gunicorn.conf.py 'booking:create_app()'``.
Figures behind the defaults: docs/benchmarks.md. Deployment: docs/deploy.md.
"""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:5000")

_cores = multiprocessing.cpu_count()
_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))
# SQLite has one writer at a time: two workers use both cores of a small host,
# and more only queue at the write lock. PostgreSQL takes writers in parallel:
# about two workers per core (each with its own connection pool, see config.py).
workers = int(os.environ.get("WEB_WORKERS", 2 * _cores if _postgres else min(2, _cores)))
# Threads overlap a request's database waits with another's Python work. On
# SQLite the waits are short (no network), and more threads only pass the GIL
# and the write lock around: in the booking rush on two cores, 2 workers booked
# 553/s with 1 thread, 494/s with 2 and 386/s with 4 (docs/benchmarks.md). Two
# keep a slow request (an XLSX export, a photo upload) from holding up its worker.
threads = int(os.environ.get("WEB_THREADS", 4 if _postgres else 2))
worker_class = "gthread"

# A request that takes longer than this is stuck: the worker is killed and replaced.
timeout = int(os.environ.get("WEB_TIMEOUT", 30))
# On SIGTERM or SIGHUP (graceful restart, e.g. after an upgrade) workers finish
# the requests they hold for up to this long before they are stopped.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", 30))
# Keep-alive for the reverse proxy's connections (nginx keepalive in docs/deploy.md).
keepalive = int(os.environ.get("WEB_KEEPALIVE", 5))

# Recycle each worker after this many requests (with jitter, so that they do not
# all restart at once) so that a slow leak can never grow without bound.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", 20000))
max_requests_jitter = int(os.environ.get("WEB_MAX_REQUESTS_JITTER", 2000))

# Memory. A worker idles at about 100 MB; photos and spreadsheets are read within
# bounds (services/photos.py, services/xlsx_limits.py). A worker starts by having
# glibc return every freed block of a megabyte or more at once (booking/memory.py:
# glibc would keep them for the thread that freed them). After each request, above
# WEB_TRIM_ABOVE_MB the worker gives back what is left over of what its threads
# freed; if it still holds more than WEB_MAX_WORKER_MEMORY_MB, it is recycled as
# max_requests does: it finishes the requests in hand and the master starts a
# fresh one. 0 turns either off. Figures: docs/benchmarks.md, "Uploads".
_trim_above_mb = int(os.environ.get("WEB_TRIM_ABOVE_MB", 150))
_max_worker_memory_mb = int(os.environ.get("WEB_MAX_WORKER_MEMORY_MB", 300))


def post_fork(server, worker):
    from booking.memory import hand_back_big_blocks

    hand_back_big_blocks()


def post_request(worker, req, environ, resp):
    if not (_trim_above_mb or _max_worker_memory_mb):
        return
    from booking.memory import release_memory, resident_mib

    held = resident_mib()  # one read of /proc/self/statm, some 15 µs
    if _trim_above_mb and held > _trim_above_mb:
        release_memory()
        held = resident_mib()
    if _max_worker_memory_mb and held > _max_worker_memory_mb and worker.alive:
        worker.log.warning("Worker %s holds %.0f MB after a request (limit %s MB): recycling it.",
                           worker.pid, held, _max_worker_memory_mb)
        worker.alive = False


# The workers' heartbeat files on tmpfs: a slow disk must not make gunicorn
# think a worker hangs.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl; several servers
# on one host would share that path, and nothing here uses it.
control_socket_disable = os.environ.get("WEB_CONTROL_SOCKET", "") != "1"

accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Behind a reverse proxy the client's address and scheme come from X-Forwarded-*,
# which the app reads through TRUSTED_PROXIES (werkzeug's ProxyFix): see docs/deploy.md.
