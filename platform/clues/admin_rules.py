"""清洗规则 (cleaning rules) in the admin: business admins edit a channel's field mapping, time
formats, normalisers, type / status mapping and validation without code. Every change is
versioned (history, rollback, 元数据变更记录) and shown against the shipped defaults; 「预览（不保存）」
applies the edited rule to the channel's most recent stored raw records and shows what would
change; 「按新规则重新清洗」 rebuilds the channel's clues / aggregated cases from the stored raw
records in the background (``reclean``, an 归集批次 of origin 重新清洗).

A channel's rule is created with the channel (shipped YAML, ``load_metadata``): no add or
delete here — a new channel also needs its reader in code (clues/sources)."""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from clues import tasks
from clues.models import CleaningRule
from clues.rules import preview_rule, summarise_preview
from lowcode.admin import CustomisedFilter, MetaRecordAdmin, PreviewChangeFormMixin

PREVIEW_SAMPLE = 200
RECLEAN_TASK = "clues.tasks.reclean_channel"


@admin.register(CleaningRule)
class CleaningRuleAdmin(PreviewChangeFormMixin, MetaRecordAdmin):
    change_form_template = "clues/cleaningrule_change_form.html"
    list_display = ["name", "source_name", "kind", "id_field", "mapped_fields", "origin_state", "updated_at"]
    list_filter = ["kind", CustomisedFilter]
    search_fields = ["source", "name"]
    fieldsets = [
        (None, {"fields": ["source", "name", "kind", "id_field", "origin_state", "shipped_diff"]}),
        ("字段映射", {"fields": ["field_map", "party_fields"]}),
        ("时间与规整", {"fields": ["time_formats", "normalisers", "prefix_patterns"]}),
        ("类型与状态映射", {"fields": ["type_map", "match_type_labels", "type_fallback", "status_map",
                                   "status_default"],
                     "description": "默认状态留空时，案件从其类型所用流程的第一个状态开始"}),
        ("校验", {"fields": ["validation"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["source", "kind", *super().get_readonly_fields(request, obj)]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="渠道", ordering="source")
    def source_name(self, obj):
        from lowcode.registry import get_dictionary

        items = get_dictionary("event_source")  # the channels (their names, not their keys)
        return items[obj.source].label if obj.source in items else obj.source

    @admin.display(description="映射字段数")
    def mapped_fields(self, obj):
        return len(obj.field_map or {})

    # -- 预览（不保存） --------------------------------------------------------------------------
    def preview(self, request, instance):
        return summarise_preview(preview_rule(instance, sample=PREVIEW_SAMPLE))

    # -- 按新规则重新清洗 ---------------------------------------------------------------------------
    def get_urls(self):
        return [path("<path:object_id>/reclean/", self.admin_site.admin_view(self.reclean_view),
                     name="clues_cleaningrule_reclean"), *super().get_urls()]

    def reclean_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        rule = self.get_object(request, object_id)
        if rule is None:
            raise Http404("清洗规则不存在")
        if not self.has_change_permission(request, rule):
            raise PermissionDenied
        if not tasks.enqueue(RECLEAN_TASK, rule.source, request.user.pk, name=f"重新清洗 {rule.source}"):
            messages.error(request, "无法提交后台任务（任务队列不可用），请稍后再试")
        else:
            batches = reverse("admin:clues_ingestbatch_changelist") + f"?origin__exact=reclean&channel__key__exact={rule.source}"
            messages.success(request, format_html(
                "已按当前规则在后台重新清洗「{}」的已归集数据，完成后可在 <a href=\"{}\">归集批次</a> 查看结果。",
                rule.name, batches))
        return HttpResponseRedirect(reverse("admin:clues_cleaningrule_change", args=[rule.pk]))

    def response_change(self, request, obj):
        messages.info(request, "新规则对此后导入的数据生效；已归集的数据可点「按新规则重新清洗」重建。")
        return super().response_change(request, obj)
