"""``make run``'s supervisor: the dev server, the background worker (django-q2 qcluster) and the
demo's loopback fakes of 政钉 / 天地图 side by side, and both stopped — with every process they started — on Ctrl+C or SIGTERM, or when
either one ends.

Why not the shell's ``cmd & trap 'kill $pid' …``: a background job of a non-interactive shell
starts with SIGINT ignored, the qcluster's sentinel ignores SIGINT and its workers outlive a
killed parent, and runserver's autoreloader leaves its child serving when only the parent is
signalled. So each command runs in its own session (process group); stopping sends SIGTERM to
the whole group, waits up to ``GRACE`` seconds for its processes to exit (an interrupted task is
rolled back and retried by the queue), then SIGKILLs what is left of the group.

No Django import here: the module is also run by its test with stand-in commands."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE = 8.0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(procs: list[subprocess.Popen], grace: float = GRACE) -> None:
    """SIGTERM every group, wait up to ``grace`` s, then SIGKILL the groups still there."""
    for p in procs:
        _signal_group(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for p in procs:
            p.poll()
        if not any(_group_alive(p.pid) for p in procs):
            break
        time.sleep(0.1)
    for p in procs:
        if _group_alive(p.pid):
            _signal_group(p.pid, signal.SIGKILL)
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def supervise(commands: list[list[str]], grace: float = GRACE) -> int:
    """Start ``commands``, wait until a signal or until one of them ends, stop them all."""
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    procs = []
    try:
        for cmd in commands:
            procs.append(subprocess.Popen(cmd, start_new_session=True))
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.2)
    finally:
        if stopping:
            print("\n正在停止开发服务器和后台任务进程……", file=sys.stderr, flush=True)
        stop(procs, grace)
        for s, handler in old.items():
            signal.signal(s, handler)
    return 0 if stopping else max((p.returncode or 0) for p in procs)


def main(argv: list[str] | None = None) -> int:
    """``python platform/demo/devrun.py [HOST:PORT]`` from the project root."""
    argv = sys.argv[1:] if argv is None else argv
    addr = argv[0] if argv else "127.0.0.1:8000"
    py = sys.executable
    # the loopback fakes of 政钉 / 天地图 the demo is configured with, and their demo secrets
    # (synthetic values, the same as platform/demo/integrations_seed.py) for the server processes
    os.environ.setdefault("DEMO_ZZD_SECRET", "demo-zzd-secret")
    os.environ.setdefault("DEMO_TIANDITU_KEY", "demo-tianditu-key")
    return supervise([[py, "manage.py", "qcluster"], [py, "manage.py", "runserver", addr],
                      [py, "platform/demo/fakes.py"]])


if __name__ == "__main__":
    sys.exit(main())
