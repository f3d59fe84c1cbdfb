"""研判 in a real Chromium (issue 13): the cockpit and the case map at 1440×900 and at 1920×1080
(the full-screen 驾驶舱 mode), with map tiles from a loopback tile server. The e2e fixture fails
the test if any request leaves 127.0.0.1 or the CSP blocks anything. Screenshots:
test-output/analysis/."""
from __future__ import annotations

import copy
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.conftest import Steps, login

pytestmark = pytest.mark.e2e


def _png(rgb=(224, 232, 226)) -> bytes:
    """A plain 256×256 PNG tile (built here: no imaging library needed)."""
    import struct

    raw = b"".join(b"\x00" + bytes(rgb) * 256 for _ in range(256))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class TileServer:
    def __init__(self):
        tile, served = _png(), []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                served.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(tile)))
                self.end_headers()
                self.wfile.write(tile)

            def log_message(self, *args):
                pass

        self.served = served
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


@pytest.fixture
def tiles(settings):
    server = TileServer()
    settings.MAP_TILE_URLS = [server.url + "/{z}/{x}/{y}.png"]
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    csp["DIRECTIVES"]["img-src"] = list(csp["DIRECTIVES"]["img-src"]) + [server.url]
    settings.CONTENT_SECURITY_POLICY = csp
    yield server
    server.stop()


@pytest.fixture
def analysis_cases(demo_world):
    from analysis import rollup
    from cases.models import Case, Party
    from demo.analysis_seed import seed_analysis
    from orgs.models import Region

    communities = list(Region.objects.filter(level=Region.Level.COMMUNITY).order_by("path")[:6])
    types = ["neighbor", "labor_wage", "housing", "traffic"]
    for i in range(24):
        case = Case.objects.create(title=f"浏览器测试纠纷{i}", case_type=types[i % 4], region=communities[i % 6],
                                   source="local" if i % 3 else "hotline12345", tags=["group"] if i % 5 == 0 else [])
        Party.objects.create(case=case, name=f"当事人{i}", id_number="11010519850307001X" if i % 2 else "")
    seed_analysis()  # region centres, coordinates, rollups (as make run's seed does)
    return rollup


def test_cockpit_and_map_at_two_sizes_with_loopback_tiles(e2e_browser, live_server, analysis_cases, tiles,
                                                          screenshot_dir):
    base = live_server.url
    out = screenshot_dir / "analysis"
    out.mkdir(parents=True, exist_ok=True)
    for width, height, screen in ((1440, 900, ""), (1920, 1080, "&screen=1")):
        context = e2e_browser.open_context(viewport={"width": width, "height": height})
        page = context.pages[0]
        steps = Steps(page, out, prefix=f"{width}x{height}-")
        login(page, base, "demo_district")
        page.goto(f"{base}/analysis/?range=month{screen}")
        kpi = page.locator(".an-kpi").first
        kpi.wait_for()
        assert "登记案件" in page.locator(".an-kpis").inner_text()
        assert page.locator(".an-kpi-value").first.inner_text().strip() == "24"
        page.locator(".an-chart canvas").first.wait_for()
        assert page.locator(".an-chart canvas").count() >= 4
        steps.shot("cockpit")
        # table view of the first chart card, then back
        card = page.locator(".an-card").nth(1)
        card.locator(".an-toggle").click()
        assert card.locator(".an-table table").is_visible()
        page.goto(f"{base}/analysis/map/?range=month{screen}")
        page.locator(".leaflet-tile-loaded").first.wait_for()
        page.locator(".marker-cluster, path.leaflet-interactive").first.wait_for()
        assert "本期案件 24 件" in page.locator("#an-map-info").inner_text()
        steps.shot("map")
        context.close()
    assert tiles.served, "the map asked the loopback tile server for no tile"
