"""make loadtest: the issue #17 load test on PostgreSQL, end to end, on loopback.

1. the load database (default postgres://postgres@127.0.0.1:5432/mdtj_load): migrate, metadata,
   the demo world, 200,000 cases / 1,000,000 logs (tests/perf generators, bulk inserts; reused
   when present), 1,000 accounts (prepare.py);
2. gunicorn with deploy/gunicorn.conf.py (DEBUG off) on 127.0.0.1:8765;
3. locust headless (locustfile.py) once per user count, each for --minutes, spawn rate 10/s;
4. a table: users, req/s, p50/p95/p99 over all pages, failures, the slowest page's p95, CPU
   seconds of the application and of PostgreSQL per request, peak RSS of the application.

The load generator shares the machine: say so next to the figures.
"""
from __future__ import annotations

import argparse
import csv
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
BIN = Path(PY).parent
PORT = 8765


def env_for(url: str) -> dict:
    env = dict(os.environ)
    keys = ROOT / "var" / "load.env"
    if not keys.exists():  # keys of the load database, kept so its ciphertext stays readable
        keys.parent.mkdir(exist_ok=True)
        keys.write_text(f"SECRET_KEY={secrets.token_urlsafe(50)}\nSM4_KEY={secrets.token_hex(16)}\n"
                        f"BLIND_INDEX_KEY={secrets.token_hex(32)}\nAUDIT_HMAC_KEY={secrets.token_hex(32)}\n")
        keys.chmod(0o600)
    for line in keys.read_text().splitlines():
        k, _, v = line.partition("=")
        env[k] = v
    env.update(DATABASE_URL=url, DEBUG="0", PYTHONPATH=f"{ROOT / 'platform'}:{ROOT}:{ROOT / 'tests' / 'perf'}",
               DJANGO_SETTINGS_MODULE="config.settings", GUNICORN_BIND=f"127.0.0.1:{PORT}", MDTJ_APP_DIR=str(ROOT),
               GUNICORN_LOGLEVEL="warning")
    return env


def prepare(url: str, cases: int, env: dict) -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT), str(ROOT / "tests" / "perf")]
    import bench  # tests/perf/bench.py

    bench.ensure_postgres_database(url)
    run = lambda *a: subprocess.run([PY, "manage.py", *a], cwd=ROOT, env=env, check=True)  # noqa: E731
    run("migrate", "--noinput", "-v0")
    code = (
        "import bench, bench_screens, datetime as dt, secrets\n"
        "import django; django.setup()\n"
        "from cases.models import Case\n"
        "bench.load_world(secrets.token_urlsafe(12) + 'Aa1!')\n"
        f"if Case.objects.count() < {cases}:\n"
        f"    print(bench.load_cases({cases}, 1.0))\n"
        "    from django.utils import timezone\n"
        "    print(bench_screens.load_logs(5, timezone.now()))\n"
        "bench.analyze()\n"
    )
    subprocess.run([PY, "-c", code], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, str(ROOT / "tests" / "load" / "prepare.py")], cwd=ROOT, env=env, check=True)


def start_server(env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
                            cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/live/", timeout=10)
            return proc
        except OSError:
            time.sleep(1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def app_processes(server: subprocess.Popen) -> list[psutil.Process]:
    try:
        root = psutil.Process(server.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def measure(users: int, minutes: float, env: dict, server: subprocess.Popen, out: Path) -> dict:
    procs = app_processes(server)
    pg = [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")]
    cpu = lambda ps: sum(sum(p.cpu_times()[:2]) for p in ps if p.is_running())  # noqa: E731
    app0, pg0 = cpu(procs), cpu(pg)
    prefix = out / f"u{users}"
    locust = subprocess.Popen([str(BIN / "locust"), "-f", str(ROOT / "tests" / "load" / "locustfile.py"), "--headless",
                               "--host", f"http://127.0.0.1:{PORT}", "-u", str(users), "-r", "10",
                               "-t", f"{int(minutes * 60)}s", "--csv", str(prefix), "--only-summary",
                               "--loglevel", "WARNING"], cwd=ROOT, env=env)
    samples = []  # (minutes since start, RSS MB of the application's processes): the soak's slope
    t0 = time.monotonic()
    while locust.poll() is None:
        time.sleep(15)
        live = [p for p in app_processes(server) if p.is_running()]
        samples.append(((time.monotonic() - t0) / 60, sum(p.memory_info().rss for p in live) / 2**20))
    procs = app_processes(server)
    app1, pg1 = cpu(procs), cpu(pg)
    rss = sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    pages = [r for r in rows if r["Name"] != "Aggregated"]
    worst = max(pages, key=lambda r: float(r["95%"] or 0)) if pages else total
    n = max(int(total["Request Count"]), 1)
    half = [s for s in samples if s[0] >= minutes / 2] or samples  # after the warm-up
    slope = 0.0
    if len(half) >= 2:
        mx = sum(x for x, _ in half) / len(half)
        my = sum(y for _, y in half) / len(half)
        den = sum((x - mx) ** 2 for x, _ in half) or 1.0
        slope = sum((x - mx) * (y - my) for x, y in half) / den * 60  # MB per hour
    return {"slope": slope, "users": users, "rps": float(total["Requests/s"]), "p50": total["50%"], "p95": total["95%"],
            "p99": total["99%"], "fail": total["Failure Count"], "worst": f"{worst['Name']} {worst['95%']}",
            "app_ms": (app1 - app0) / n * 1000, "pg_ms": (pg1 - pg0) / n * 1000, "rss": rss}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/mdtj_load")
    ap.add_argument("--users", default="50 100 200")
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--cases", type=int, default=200_000)
    ap.add_argument("--skip-prepare", action="store_true")
    args = ap.parse_args()
    if "load" not in args.database_url:
        raise SystemExit("--database-url must name a load-test database (…/mdtj_load)")
    env = env_for(args.database_url)
    if not args.skip_prepare:
        prepare(args.database_url, args.cases, env)
    out = ROOT / "bench-output" / "load"
    out.mkdir(parents=True, exist_ok=True)
    server = start_server(env)
    results = []
    try:
        for users in [int(u) for u in args.users.split()]:
            results.append(measure(users, args.minutes, env, server, out))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    print("\n| users | req/s | p50 ms | p95 ms | p99 ms | failures | slowest page p95 | app CPU ms/req | PG CPU ms/req | app RSS MB | RSS slope MB/h (2nd half) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['users']} | {r['rps']:.1f} | {r['p50']} | {r['p95']} | {r['p99']} | {r['fail']} | {r['worst']} "
              f"| {r['app_ms']:.0f} | {r['pg_ms']:.0f} | {r['rss']:.0f} | {r['slope']:+.1f} |")
    return 1 if any(int(r["fail"]) for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
