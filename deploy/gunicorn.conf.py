"""gunicorn settings for production (systemd/mdtj.service runs `gunicorn -c deploy/gunicorn.conf.py`).

Sized for one 2-core node that also runs PostgreSQL (issue #17 load test): 3 workers × 4 threads.
Every value can be overridden from the environment file (/etc/mdtj/mdtj.env)."""
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # Excel imports/exports stay under a minute
graceful_timeout = 30
keepalive = 5
# Recycling is a safety net, not a leak fix (the soak run is made with it off: GUNICORN_MAX_REQUESTS=0).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
chdir = os.environ.get("MDTJ_APP_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pythonpath = "platform,."
wsgi_app = "config.wsgi:application"
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# nginx on the same host sets X-Forwarded-*; trust only it
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
