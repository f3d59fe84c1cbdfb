"""Issue #17: the files of deploy/ are the ones production runs — the gunicorn configuration the
systemd unit names really serves the application, the environment template names exactly the
settings the code reads, nginx accepts an import of the allowed size and never serves media."""
from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def _env_template() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / "mdtj.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v
    return out


def test_runtime_requirements_pin_the_server_and_the_redis_client():
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line)
    assert {"gunicorn", "redis", "django-health-check"} <= set(pins)
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "pytest" not in (ROOT / "requirements.txt").read_text() and "locust==" in dev


def test_the_env_template_names_every_key_and_only_settings_the_code_reads():
    from ops.health import KEYS

    template = _env_template()
    assert set(KEYS) <= set(template), "every key the readiness probe checks is in the template"
    assert all(template[k] == "" for k in KEYS), "the template ships no key"
    read = set(re.findall(r"""(?:os\.environ(?:\.get)?[\[(]|env_bool\()\s*["']([A-Z_0-9]+)""",
                          (ROOT / "platform/config/settings.py").read_text() + (DEPLOY / "gunicorn.conf.py").read_text()))
    read |= {"DATABASE_URL"}
    assert set(template) <= read, f"template variables nobody reads: {set(template) - read}"


def test_systemd_units_use_the_environment_file_and_the_repository_gunicorn_conf():
    web = (DEPLOY / "systemd/mdtj.service").read_text()
    worker = (DEPLOY / "systemd/mdtj-worker.service").read_text()
    for unit in (web, worker):
        assert "EnvironmentFile=/etc/mdtj/mdtj.env" in unit and "User=mdtj" in unit and "Restart=always" in unit
    conf = re.search(r"gunicorn -c /opt/mdtj/app/(\S+)", web).group(1)
    assert (ROOT / conf).is_file()
    assert "manage.py qcluster" in worker
    assert "manage.py backup" in (DEPLOY / "systemd/mdtj-backup.service").read_text()


def test_nginx_takes_an_import_of_the_allowed_size_and_never_serves_media():
    conf = (DEPLOY / "nginx/mdtj.conf").read_text()
    size = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1)) * 1024 * 1024
    assert size > settings.IMPORT_MAX_BYTES
    media = re.search(r"location /media/ \{(.*?)\}", conf, re.S).group(1)
    assert "internal;" in media
    assert re.search(r"location /static/ \{\s*alias /opt/mdtj/app/var/static/;", conf)
    assert "https://" not in conf.replace("X-Forwarded-Proto https", "")  # nothing fetched from outside


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_live(port: int, proc, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live/", timeout=30) as r:
                assert r.status == 200 and r.read() == b"ok"
                return
        except OSError:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, f"gunicorn did not answer within {seconds:.0f} s"
            time.sleep(0.3)


def test_gunicorn_with_the_shipped_conf_serves_the_probes_and_survives_a_killed_worker(db, tmp_path):
    import signal
    import sqlite3

    import psutil

    from django.db import connection

    if connection.vendor != "sqlite":
        return  # the server's own database is not what this test is about: SQLite only
    with connection.cursor() as cursor:  # the test database's schema, in milliseconds
        cursor.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        schema = [row[0] for row in cursor.fetchall()]
    target = sqlite3.connect(tmp_path / "db.sqlite3")
    for statement in schema:
        target.execute(statement)
    target.commit()
    target.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(SECRET_KEY=secrets.token_urlsafe(50), SM4_KEY=secrets.token_hex(16),
               BLIND_INDEX_KEY=secrets.token_hex(32), AUDIT_HMAC_KEY=secrets.token_hex(32),
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", GUNICORN_BIND=f"127.0.0.1:{port}",
               GUNICORN_WORKERS="1", GUNICORN_THREADS="1", MDTJ_APP_DIR=str(ROOT), DEBUG="0")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "-c", str(DEPLOY / "gunicorn.conf.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_live(port, proc)
        try:  # readiness: the keys are there, the database answers; the JSON is Chinese
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready/", timeout=30) as r:
                body = r.read().decode()
        except urllib.error.HTTPError as exc:
            body = exc.read().decode()
        assert '"数据库": "正常"' in body and '"密钥": "正常"' in body, body
        # fault: kill -9 the worker — the master starts a new one and the node answers again by itself
        worker = psutil.Process(proc.pid).children()[0]
        os.kill(worker.pid, signal.SIGKILL)
        _wait_live(port, proc, seconds=60)
        assert [c.pid for c in psutil.Process(proc.pid).children()] not in ([], [worker.pid])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
