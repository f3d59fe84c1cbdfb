"""Issue 18 (10): stopping ``make run`` (Ctrl+C, or SIGTERM) stops everything it started — the
dev server, the background worker and their children — even a process that ignores SIGINT and
SIGTERM, as the qcluster's sentinel and workers do. ``demo.devrun`` is the supervisor ``make run``
starts; here it supervises stand-ins with the same stubborn behaviour."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# a worker like qcluster: ignores SIGINT and SIGTERM, and starts a child that ignores them too
STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                          "signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(120)"])
open(sys.argv[1], "w").write(f"{os.getpid()} {child.pid}")
time.sleep(120)
"""
PLAIN = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def start(tmp_path):
    worker, server = tmp_path / "worker.pids", tmp_path / "server.pid"
    code = ("import sys; sys.path.insert(0, 'platform'); from demo import devrun; "
            f"sys.exit(devrun.supervise([[sys.executable, '-c', {STUBBORN!r}, {str(worker)!r}], "
            f"[sys.executable, '-c', {PLAIN!r}, {str(server)!r}]], grace=1.0))")
    sup = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (worker.exists() and server.exists()
                                               and worker.read_text() and server.read_text()):
        time.sleep(0.05)
    pids = [int(x) for x in worker.read_text().split()] + [int(server.read_text())]
    return sup, pids


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_stopping_the_supervisor_stops_every_process_it_started(tmp_path, how):
    sup, pids = start(tmp_path)
    try:
        assert all(alive(p) for p in pids)
        if how == "ctrl-c":
            os.killpg(sup.pid, signal.SIGINT)  # what the terminal sends to the foreground group
        else:
            os.kill(sup.pid, signal.SIGTERM)
        sup.wait(timeout=10)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.05)
        assert [p for p in pids if alive(p)] == []
    finally:
        for p in [sup.pid] + pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_the_makefile_runs_the_supervisor():
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "demo/devrun.py" in recipe
    assert " & " not in recipe  # no background job left to the shell
