"""预警 column and filter on the case list (UI slots cases.list_columns / cases.list_filters)."""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist

from extensions.escalation import config as config_mod
from lowcode import registry

_levels: tuple = (None, {}, "")  # (metadata version, levels by key, default level)


def levels() -> dict[str, config_mod.Level]:
    """Levels by key, read once per metadata version (a level saved in the admin bumps it): a list
    page reads them once, not once per row, and shows a change on the next request."""
    global _levels
    version = registry.current_version()
    if _levels[0] != version:
        from extensions.escalation.models import WarningLevel, WarningSetting

        found = {lv.key: config_mod.Level(lv.key, lv.label, lv.color, lv.order) for lv in WarningLevel.objects.all()}
        default = WarningSetting.objects.filter(key="default_level").values_list("value", flat=True).first()
        _levels = (version, found, default if default in found else
                   (max(found.values(), key=lambda lv: lv.order).key if found else ""))
    return _levels[1]


def default_level() -> str:
    levels()
    return _levels[2]


def badge(key: str):
    from django.utils.html import format_html

    lv = levels().get(key)
    if lv is None:
        return key
    return format_html('<span class="badge mdtj-warning" style="background:{};color:#fff">{}</span>', lv.color, lv.label)


@admin.display(description="预警")
def warning_column(case):
    try:
        return badge(case.warning.level)
    except ObjectDoesNotExist:
        return "—"


class CaseWarningFilter(admin.SimpleListFilter):
    title = "预警等级"
    parameter_name = "warning"

    def lookups(self, request, model_admin):
        return [(lv.key, lv.label) for lv in sorted(levels().values(), key=lambda lv: lv.order)]

    def queryset(self, request, queryset):
        return queryset.filter(warning__level=self.value()) if self.value() else queryset
