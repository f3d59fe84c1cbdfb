"""The one region picker (issue 18): wherever a region is chosen, the choices show as a tree
(indented by level, in path order) and a search box above the list finds a region by any part of
its path ("湖滨" finds 湖滨社区 and its grids). The search is mdtj/admin.js's; the choices stay
whatever queryset the screen allows (the user's scope), nothing is fetched from elsewhere."""
from __future__ import annotations

from django import forms

INDENT = "\u3000"  # a full-width space per level below the top one


class RegionSelect(forms.Select):
    def __init__(self, attrs=None, choices=()):
        super().__init__({"data-region-search": "输入名称搜索区域", **(attrs or {})}, choices)
        self._names: dict[str, str] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        region = getattr(value, "instance", None)
        if region is not None:
            self._names[region.path] = region.name
            parts, path = [], region.path
            while path:  # the names along the path (parents come first in path order)
                parts.insert(0, self._names.get(path, ""))
                path = path[:path.rstrip("/").rfind("/") + 1] if "/" in path.rstrip("/") else ""
            option["attrs"]["data-search"] = " ".join(p for p in parts if p)
        return option


class RegionChoiceField(forms.ModelChoiceField):
    widget = RegionSelect

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", RegionSelect)
        super().__init__(*args, **kwargs)  # regions are ordered by path: a parent before its children

    def label_from_instance(self, obj) -> str:
        depth = max(obj.level - 1, 0)
        return f"{INDENT * depth}{'└ ' if depth else ''}{obj.name}"


def region_formfield_kwargs(kwargs: dict) -> dict:
    """For ``formfield_for_foreignkey`` on a region field: the tree picker."""
    kwargs["form_class"] = RegionChoiceField
    kwargs["widget"] = RegionSelect
    return kwargs
