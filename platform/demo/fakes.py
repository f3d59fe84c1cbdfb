"""``make run``'s loopback stand-ins for the outside systems the demo is configured with (政钉 on
127.0.0.1:18081, 天地图 on 18082 — platform/demo/integrations_seed.py), so 浙政钉扫码登录 and the
geocoding on the demo actually work: scanning "logs in" as the demo mediator's 政钉 identity.
Synthetic data only; nothing listens beyond 127.0.0.1. A port already taken is skipped."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "platform"))

from demo.integrations_seed import TDT_KEY, ZZD_SECRET, _fake_tree  # noqa: E402

DEMO_MEDIATOR = {"GE_demo_99": {"employeeName": "演示调解员（政钉）", "org": "GO_demo_hubin", "accountId": 880099}}


def main() -> int:
    from tests.fakes.tianditu import FakeTianditu
    from tests.fakes.zzd import FakeZzd

    orgs, employees = _fake_tree()
    servers = []
    for make in (lambda: FakeZzd(app_key="demo-zzd-app", secret=os.environ.get("DEMO_ZZD_SECRET", ZZD_SECRET),
                                 orgs=orgs, employees={**DEMO_MEDIATOR, **employees}, port=18081),
                 lambda: FakeTianditu(key=os.environ.get("DEMO_TIANDITU_KEY", TDT_KEY),
                                      known={"示范区湖滨路8号": (120.1551, 30.2741)}, port=18082)):
        try:
            servers.append(make())
        except OSError as exc:  # taken (another demo running): the demo works without it
            print(f"演示用模拟服务未启动：{exc}", file=sys.stderr)
    stopping = []
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: stopping.append(1))
    while not stopping:
        time.sleep(0.5)
    for server in servers:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
