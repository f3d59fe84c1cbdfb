"""天地图 geocoding for addresses the unified address library cannot match (M-5.5).

Results are cached in the database (``GeocodeResult``, one outside call per address, found or
not), calls are rate-limited per minute (the key's daily quota is the district's), and a result
reaches the address library only after a person accepts it and names its region (``accept``).
The server key stays on the server (never sent to a browser). Map tiles are not configured here."""
from __future__ import annotations

import json
from urllib.parse import quote

from django.db import transaction

from integrations import http
from integrations.http import IntegrationError, Unavailable
from integrations.models import ExternalSystem, GeocodeResult
from secure.ratelimit import hit

MAX_ADDRESS = 255


def system() -> ExternalSystem | None:
    return ExternalSystem.objects.filter(kind=ExternalSystem.TIANDITU, enabled=True).order_by("pk").first()


def geocode(address: str, sys: ExternalSystem | None = None) -> GeocodeResult:
    """The cached result for ``address``, asking 天地图 once when there is none. Raises
    Unavailable (outage, quota) or IntegrationError (not configured, refused)."""
    address = " ".join(str(address or "").split())[:MAX_ADDRESS]
    if not address:
        raise IntegrationError("地址为空")
    cached = GeocodeResult.objects.filter(address=address).first()
    if cached is not None:
        return cached
    sys = sys or system()
    if sys is None:
        raise IntegrationError("天地图地理编码未启用")
    key = sys.secret()
    if not key:
        raise IntegrationError(f"天地图密钥环境变量（{sys.secret_env or '未填写'}）未设置")
    allowed, wait = hit("tianditu", sys.code, sys.rate_per_minute, 60)
    if not allowed:
        raise Unavailable(f"天地图调用超过每分钟 {sys.rate_per_minute} 次，请 {wait} 秒后再试")
    ds = json.dumps({"keyWord": address}, ensure_ascii=False)
    url = f"{sys.base_url.rstrip('/')}/geocoder?ds={quote(ds)}&tk={quote(key)}"
    resp = http.request(sys, "GET", url)
    try:
        body = resp.json()
    except ValueError:
        http.mark_error(sys, f"应答不是 JSON（HTTP {resp.status_code}）")
        raise IntegrationError("天地图应答格式不正确") from None
    status = str(body.get("status", ""))
    if status not in ("0", "404", "101"):
        http.mark_error(sys, f"status={status} {body.get('msg', '')}"[:500])
        raise IntegrationError(f"天地图拒绝了请求：{body.get('msg') or status}")
    http.mark_ok(sys)
    loc = body.get("location") or {}
    try:
        lon, lat = float(loc["lon"]), float(loc["lat"])
        found = status == "0"
    except (KeyError, TypeError, ValueError):
        lon = lat = None
        found = False
    score = loc.get("score")
    result, _ = GeocodeResult.objects.get_or_create(address=address, defaults={
        "found": found, "lon": lon if found else None, "lat": lat if found else None,
        "level": str(loc.get("level") or "")[:32] if found else "",
        "score": int(score) if found and str(score).lstrip("-").isdigit() else None,
        "review": "pending" if found else "rejected"})
    return result


@transaction.atomic
def accept(result: GeocodeResult, user, region=None) -> GeocodeResult:
    """A person accepted the point: the address joins the unified address library (with the
    coordinates and the region the reviewer chose), so the matcher finds it from now on."""
    from addresses.models import StandardAddress
    from decimal import Decimal

    region = region or result.region
    if not result.found or region is None:
        raise IntegrationError("采纳前须有天地图坐标并选择所属区域")
    std = StandardAddress.objects.filter(text=result.address).first() or StandardAddress(text=result.address)
    std.region = region
    std.longitude, std.latitude = Decimal(f"{result.lon:.6f}"), Decimal(f"{result.lat:.6f}")
    std.source = "天地图（人工审核）"
    std.save()
    result.review, result.reviewed_by, result.region, result.standard = "accepted", user, region, std
    result.save()
    return result
