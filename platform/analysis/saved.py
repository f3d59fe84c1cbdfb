"""常用视图: the saved analysis views (metadata kind ``analysis_views``) as links for the view bar,
and saving the view on screen. A view's region is kept by its 区划代码; one outside the viewer's
scope is left out of the link (the page then shows the viewer's own scope)."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.text import slugify

from analysis.models import VIEW_PARAMS, SavedView

PAGE_URLS = {"cockpit": "analysis:cockpit", "cases": "analysis:cases", "help": "analysis:help", "map": "analysis:map"}


def link(view: SavedView, scope_prefix: str) -> str:
    from orgs.models import Region

    query = {k: v for k, v in (view.params or {}).items() if k in VIEW_PARAMS and k != "region_code" and v != ""}
    code = (view.params or {}).get("region_code")
    if code:
        region = Region.objects.filter(code=str(code)).only("pk", "path").first()
        if region is not None and region.path.startswith(scope_prefix):
            query["region"] = region.pk
    return reverse(PAGE_URLS[view.page]) + ("?" + urlencode(query) if query else "")


def links(scope_prefix: str) -> list[tuple[str, str, str]]:
    """(name, url, description) of the enabled views, in their order."""
    return [(v.name, link(v, scope_prefix), v.description) for v in SavedView.objects.filter(enabled=True)]


def params_from(query: dict) -> dict:
    """The filters of the page being shown, as a saved view keeps them (region → 区划代码)."""
    from orgs.models import Region

    out = {k: str(query[k])[:64] for k in VIEW_PARAMS if k in query and query[k] not in ("", None)}
    raw = str(query.get("region") or "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 12:
        region = Region.objects.filter(pk=int(raw)).only("code").first()
        if region is not None:
            out["region_code"] = region.code
    out.pop("region", None)
    return out


def new_code(name: str) -> str:
    base = slugify(name, allow_unicode=False) or "view"
    base = re.sub(r"[^a-z0-9_-]", "", base)[:40] or "view"
    code, n = base, 1
    while SavedView.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code
