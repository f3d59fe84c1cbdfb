"""The auditor's screens (审计管理员): the security audit log and Django's admin action log,
read-only for everyone — no add, change or delete, no bulk actions. Opening them needs
``secure.view_securityevent`` / ``admin.view_logentry``; the role 审计管理员 holds exactly these,
system and security admins hold neither. The audit list filters by time range, event type,
outcome, account and IP, searches, shows a row in full and exports the filtered rows to Excel
(the export is itself audited)."""
from __future__ import annotations

import datetime as dt
import io
import json

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.styles import Font

from secure import audit
from secure.models import SecurityEvent
from secure.spreadsheet import max_export_rows, neutralise

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReadOnlyAdminMixin:
    """Nobody adds, changes or deletes through the admin; viewing needs the view permission."""

    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- filters: free-text inputs inside jazzmin's filter form (no nested form, no script) -----
class InputFilter(admin.ListFilter):
    """Text/date inputs; ``params``: (GET name, label, input type). Bad input → a Chinese message
    and the filter is ignored, never a 500."""

    template = "admin/secure/input_filter.html"
    params: tuple[tuple[str, str, str], ...] = ()

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.request = request
        for name, _, _ in self.params:
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = (value[-1] if isinstance(value, list) else value).strip()

    def has_output(self):
        return True

    def expected_parameters(self):
        return [name for name, _, _ in self.params]

    def choices(self, changelist):
        return [{"name": name, "label": label, "type": kind, "value": self.used_parameters.get(name, "")}
                for name, label, kind in self.params]

    def queryset(self, request, queryset):
        return queryset


class TimeRangeFilter(InputFilter):
    title = "时间范围"
    params = (("at_from", "起始日期", "date"), ("at_to", "截止日期", "date"))

    def queryset(self, request, queryset):
        bounds = {}
        for name in ("at_from", "at_to"):
            text = self.used_parameters.get(name, "")
            if not text:
                continue
            try:
                day = dt.date.fromisoformat(text)
                start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
            except (ValueError, OverflowError):
                messages.warning(request, f"日期“{text[:20]}”无效，请按 YYYY-MM-DD 填写（该条件未生效）。")
                continue
            bounds[name] = start
        if "at_from" in bounds:
            queryset = queryset.filter(at__gte=bounds["at_from"])
        if "at_to" in bounds:
            try:
                queryset = queryset.filter(at__lt=bounds["at_to"] + dt.timedelta(days=1))
            except OverflowError:
                pass
        return queryset


class AccountFilter(InputFilter):
    title = "账号"
    params = (("username", "账号", "text"),)

    def queryset(self, request, queryset):
        value = self.used_parameters.get("username", "")
        return queryset.filter(username=value[:150]) if value else queryset


class IPFilter(InputFilter):
    title = "来源地址"
    params = (("ip", "来源地址（IP）", "text"),)

    def queryset(self, request, queryset):
        value = self.used_parameters.get("ip", "")
        return queryset.filter(ip__startswith=value[:45]) if value else queryset


class EventFilter(admin.SimpleListFilter):
    title = "事件类型"
    parameter_name = "event"

    def lookups(self, request, model_admin):
        codes = set(audit.EVENT_LABELS) | set(SecurityEvent.objects.values_list("event", flat=True).distinct())
        return sorted(((c, audit.event_label(c)) for c in codes), key=lambda x: x[1])

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


class OutcomeFilter(admin.SimpleListFilter):
    title = "结果"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return SecurityEvent.OUTCOMES

    def queryset(self, request, queryset):
        return queryset.filter(outcome=self.value()) if self.value() else queryset


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/secure/securityevent/change_list.html"
    list_display = ["seq", "local_time", "event_label", "outcome_label", "username", "ip", "object_repr"]
    list_display_links = ["seq", "local_time"]
    list_filter = [TimeRangeFilter, EventFilter, OutcomeFilter, AccountFilter, IPFilter]
    search_fields = ["username", "ip", "object_repr", "event"]
    search_help_text = "账号、来源地址、对象或事件代码"
    show_full_result_count = False
    list_per_page = 50
    fields = ["seq", "local_time", "event_label", "outcome_label", "username", "user", "ip", "object_repr",
              "detail_pretty", "prev_mac", "mac"]
    readonly_fields = fields

    @admin.display(description="时间", ordering="at")
    def local_time(self, obj):
        return timezone.localtime(obj.at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="事件类型", ordering="event")
    def event_label(self, obj):
        return audit.event_label(obj.event)

    @admin.display(description="结果", ordering="outcome")
    def outcome_label(self, obj):
        if obj.outcome == SecurityEvent.OUTCOME_FAILURE:
            return format_html('<span class="text-danger">{}</span>', "失败")
        return "成功"

    @admin.display(description="详情")
    def detail_pretty(self, obj):
        return format_html("<pre style=\"white-space:pre-wrap\">{}</pre>",
                           json.dumps(obj.detail, ensure_ascii=False, indent=2))

    def get_urls(self):
        return [path("export/", self.admin_site.admin_view(self.export_view),
                     name="secure_securityevent_export")] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        extra_context = {**(extra_context or {}),
                         "export_url": reverse("admin:secure_securityevent_export") + (f"?{query}" if query else "")}
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        back = reverse("admin:secure_securityevent_changelist") + (f"?{request.GET.urlencode()}" if request.GET else "")
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            self.message_user(request, "筛选条件无效，无法导出，请重新选择筛选条件。", messages.ERROR)
            return HttpResponseRedirect(back)
        limit = max_export_rows()
        total = queryset.count()
        if total > limit:
            self.message_user(request, f"当前筛选结果共 {total} 条，超过单次导出上限 {limit} 条，请缩小时间范围后分批导出。",
                              messages.ERROR)
            return HttpResponseRedirect(back)
        data = export_workbook(queryset, request)
        audit.export(request, "安全审计日志", rows=total)
        stamp = timezone.localtime().strftime("%Y%m%d_%H%M")
        response = HttpResponse(data, content_type=XLSX_MIME)
        response["Content-Disposition"] = content_disposition_header(True, f"安全审计日志_{stamp}.xlsx")
        return response


HEADERS = ["序号", "时间", "事件类型", "结果", "账号", "来源地址", "对象", "详情", "校验值（HMAC-SM3）"]


def export_workbook(queryset, request) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("安全审计日志")
    ws.append(HEADERS)
    for row in queryset.order_by("seq").iterator(chunk_size=1000):
        ws.append([row.seq, timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M:%S"),
                   neutralise(audit.event_label(row.event)), "失败" if row.outcome == "failure" else "成功",
                   neutralise(row.username), neutralise(row.ip), neutralise(row.object_repr),
                   neutralise(json.dumps(row.detail, ensure_ascii=False)), row.mac])
    audit.stamp_workbook(wb, ws, request.user, what="安全审计日志",
                         filters={k: v for k, v in request.GET.items()}, rows=queryset.count())
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Django's own record of admin saves (who changed which object, when): read-only."""

    list_display = ["action_time", "user", "content_type", "object_repr", "action_label", "message"]
    list_filter = ["action_flag", "content_type"]
    search_fields = ["object_repr", "user__username", "change_message"]
    date_hierarchy = "action_time"
    list_select_related = ["user", "content_type"]
    show_full_result_count = False
    fields = ["action_time", "user", "content_type", "object_id", "object_repr", "action_label", "message"]
    readonly_fields = fields

    @admin.display(description="操作")
    def action_label(self, obj):
        return {1: "新增", 2: "修改", 3: "删除"}.get(obj.action_flag, str(obj.action_flag))

    @admin.display(description="修改内容")
    def message(self, obj):
        return obj.get_change_message()
