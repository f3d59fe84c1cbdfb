"""Fake 天地图 geocoder: ``/geocoder?ds={"keyWord":…}&tk=…`` (single-quoted JSON accepted), the
documented shapes; a wrong key is refused; addresses in ``known`` are found."""
from __future__ import annotations

import json

from tests.fakes.base import FakeServer


class FakeTianditu(FakeServer):
    def __init__(self, key="fake-tk", known=None, port=0):
        self.key = key
        self.known = known if known is not None else {}   # address → (lon, lat)
        super().__init__(port)

    def handle(self, method, path, params, headers, body):
        if path != "/geocoder":
            return 404, {"status": "1", "msg": "not found"}, {}
        if params.get("tk", [""])[0] != self.key:
            return 200, {"status": "1", "msg": "权限类型错误"}, {}
        raw = params.get("ds", [""])[0]
        try:
            ds = json.loads(raw.replace("'", '"'))
            word = ds["keyWord"]
        except (ValueError, KeyError, TypeError):
            return 200, {"status": "1", "msg": "参数错误"}, {}
        if word in self.known:
            lon, lat = self.known[word]
            return 200, {"msg": "ok", "status": "0", "searchVersion": "6.4.9V",
                         "location": {"lon": str(lon), "lat": str(lat), "score": 90, "level": "门址", "keyWord": word}}, {}
        return 200, {"msg": "无结果", "status": "404"}, {}
