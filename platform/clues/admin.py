"""线索库 and 数据归集 screens in the admin.

- 线索 (Clue): scoped list (clues.actions.scoped_clues), filters, search by title/text and exact
  phone / ID number via the blind index, read-only detail, bulk actions 分派 / 转为案件 / 关闭
  (the writes are in clues.actions).
- 归集批次 (IngestBatch): the batches with their counts, drill-down to the rejections, the
  上传导入 page (admin/clues/ingestbatch/upload/) and the rejected-records report download.
- 原始记录 (RawRecord) read-only, and the 数据质量 page (admin/clues/rawrecord/quality/).

Batches, rejections, raw records and the quality page are district-level screens: besides the
model permission the user must be a superuser or sit at district level (region level 1).
"""
from __future__ import annotations

import json
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from accounts.scope import regions_for, scope_q
from cases.actions import ActionRefused
from cases.admin import can_see_sensitive, identity_lookup
from cases.admin_blocks import label
from clues import actions, quality, redact
from clues.models import Channel, Clue, IngestBatch, RawRecord, Rejection
from lowcode import slots
from lowcode.choices import dictionary_choices
from lowcode.lists import BoundedDateFieldListFilter
from lowcode.modeladmin import ScopedAdminMixin, current_request, set_current_request
from orgs.models import Region
from orgs.widgets import RegionChoiceField
from secure import audit

MAX_SELECTED = 2000
MAX_CONVERT = 50
PREVIEW = 50
INGEST_MAX_BYTES_DEFAULT = 60 * 1024 * 1024
INGEST_SUFFIXES = (".jsonl", ".xlsx")


def ingest_max_bytes() -> int:
    return int(getattr(settings, "INGEST_MAX_BYTES", INGEST_MAX_BYTES_DEFAULT))


def district_level(user) -> bool:
    return user.is_active and (user.is_superuser or actions.is_district_level(user))


# --- filters --------------------------------------------------------------------------------
class TypeFilter(admin.SimpleListFilter):
    title = "案件类型"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        from lowcode.registry import get_dictionary

        return [("__none__", "（未映射）")] + [(c, e.label) for c, e in get_dictionary("case_type").items()]

    def queryset(self, request, queryset):
        if self.value() == "__none__":
            return queryset.filter(type_code="")
        if self.value():
            return queryset.filter(type_code=self.value())
        return queryset


class RegionLevelFilter(admin.SimpleListFilter):
    title = "区域层级"
    parameter_name = "region_level"

    def lookups(self, request, model_admin):
        return [(str(value), label) for value, label in Region.Level.choices] + [("none", "无区域")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(region__isnull=True)
        if self.value() in {str(value) for value in Region.Level.values}:
            return queryset.filter(region__level=int(self.value()))
        return queryset


# --- action forms -----------------------------------------------------------------------------
class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label="处理人", queryset=None, empty_label="（请选择）")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = actions.users_for_assignment(user)
        self.fields["assignee"].label_from_instance = lambda u: f"{u}（{u.region}）"
        self.fields["assignee"].widget.attrs["class"] = "form-select"


class ConvertForm(forms.Form):
    region = RegionChoiceField(label="案件所属区域（社区/网格）", queryset=None, required=False,
                                    empty_label="（按线索所属区域）",
                                    help_text="线索所属区域不到社区一级时必须选择")
    case_type = forms.ChoiceField(label="案件类型", required=False,
                                  help_text="不选则按线索的类型，未映射的类型归入“其他”")

    def __init__(self, *args, user=None, need_region=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions_for(user).filter(level__gte=Region.CASE_LEVEL)
        self.fields["region"].required = need_region
        self.fields["case_type"].choices = dictionary_choices("case_type", blank="（按线索类型）")
        for f in self.fields.values():
            f.widget.attrs["class"] = "form-select"


class CloseForm(forms.Form):
    reason = forms.CharField(label="关闭原因", max_length=500, widget=forms.Textarea(attrs={"rows": 3,
                                                                                       "class": "form-control"}))


def _intermediate(model_admin, request, queryset, action: str, title: str, form, note: str = ""):
    rows = list(queryset.select_related("channel", "region").order_by("-occurred_at", "-id")[:PREVIEW])
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts, "title": title, "action": action, "form": form, "note": note,
        "selected_pks": list(queryset.values_list("pk", flat=True)),
        "preview": rows, "count": queryset.count(),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "changelist_url": reverse("admin:clues_clue_changelist"),
    }
    return TemplateResponse(request, "clues/action_intermediate.html", context)


def _too_many(request, queryset, limit=MAX_SELECTED) -> bool:
    if queryset.count() > limit:
        messages.error(request, f"一次最多处理 {limit} 条线索，请缩小筛选范围")
        return True
    return False


def _bare(queryset) -> list[Clue]:
    return [Clue(pk=pk) for pk in queryset.values_list("pk", flat=True)]


@admin.action(description="分派（指定处理人）", permissions=["change"])
def assign_selected(model_admin, request, queryset):
    if _too_many(request, queryset):
        return None
    form = AssignForm(request.POST if "apply" in request.POST else None, user=request.user)
    if "apply" in request.POST and form.is_valid():
        try:
            n = actions.assign_clues(_bare(queryset), request.user, form.cleaned_data["assignee"])
        except ActionRefused as e:
            messages.error(request, str(e))
        else:
            messages.success(request, f"已将 {n} 条线索分派给 {form.cleaned_data['assignee']}")
        return None
    return _intermediate(model_admin, request, queryset, "assign_selected", "分派线索", form)


@admin.action(description="转为案件", permissions=["change"])
def convert_selected(model_admin, request, queryset):
    if _too_many(request, queryset, MAX_CONVERT):
        return None
    need_region = queryset.filter(Q(region__isnull=True) | Q(region__level__lt=Region.CASE_LEVEL)).exists()
    form = ConvertForm(request.POST if "apply" in request.POST else None, user=request.user,
                       need_region=need_region)
    if "apply" in request.POST and form.is_valid():
        done, refused = [], []
        for clue in queryset.order_by("pk"):
            try:
                done.append(actions.convert_clue(clue, request.user, region=form.cleaned_data["region"],
                                                 case_type=form.cleaned_data["case_type"]))
            except ActionRefused as e:
                refused.append(f"{clue.record_key}：{e}")
        if done:
            links = format_html_join("、", '<a href="{}">{}</a>', (
                (reverse("admin:cases_case_detail", args=[c.pk]), c.exchange_id) for c in done))
            messages.success(request, format_html("已转为 {} 件案件：{}", len(done), links))
        for text in refused:
            messages.error(request, text)
        return None
    note = "所选线索中有所属区域不到社区一级的，请选择案件所属的社区（或网格）。" if need_region else ""
    return _intermediate(model_admin, request, queryset, "convert_selected", "线索转为案件", form, note)


@admin.action(description="关闭（填写原因）", permissions=["change"])
def close_selected(model_admin, request, queryset):
    if _too_many(request, queryset):
        return None
    form = CloseForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        try:
            n = actions.close_clues(_bare(queryset), request.user, form.cleaned_data["reason"])
        except ActionRefused as e:
            messages.error(request, str(e))
        else:
            messages.success(request, f"已关闭 {n} 条线索")
        return None
    return _intermediate(model_admin, request, queryset, "close_selected", "关闭线索", form)


# --- 线索库 ---------------------------------------------------------------------------------------


@admin.register(Clue)
class ClueAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    change_form_template = "clues/clue_change_form.html"
    list_display = ["record_no", "channel_label", "occurred_at", "type_display", "title", "phones",
                    "region", "status", "assignee", "case_link"]
    list_display_links = ["record_no", "title"]
    list_select_related = ["channel", "region", "assignee", "converted_case"]
    list_filter = ["channel", "status", TypeFilter, RegionLevelFilter, "address_quality",
                   ("occurred_at", BoundedDateFieldListFilter)]
    search_fields = ["title", "text"]
    search_help_text = "按标题、内容搜索，或输入完整手机号、证件号码精确查找"
    date_hierarchy = None
    show_full_result_count = False
    actions = [assign_selected, convert_selected, close_selected]
    fields = ["record_key", "channel", "source_id", "occurred_at", "title", "text", "type_label", "type_display",
              "party_list", "address_raw", "address", "address_standard", "address_quality", "region",
              "status", "assignee", "case_link", "close_reason", "created_at", "updated_at"]

    def get_queryset(self, request):
        return actions.scoped_clues(request.user, super().get_queryset(request)).prefetch_related("parties")

    def has_add_permission(self, request):
        return False  # clues come from the channels (归集)

    def has_delete_permission(self, request, obj=None):
        return False  # closed, never deleted (the raw record stays for audit)

    def has_change_permission(self, request, obj=None):
        # the detail page is read-only (derived from the raw record); changes go through the
        # bulk actions, which need clues.change_clue (checked here with obj=None)
        return obj is None and super().has_change_permission(request)

    def get_readonly_fields(self, request, obj=None):
        return self.fields  # everything is derived from the raw record or set by the actions

    def get_search_results(self, request, queryset, search_term):
        found = identity_lookup(search_term.strip(), "parties__")
        if found is not None:
            return queryset.filter(**found).distinct(), True
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(self, request, extra_context=None):
        set_current_request(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        set_current_request(request)
        panels = slots.items("clues.detail_panels")  # e.g. 同一案件 / 相似案件 (extensions.dedup)
        obj = self.get_object(request, object_id) if object_id and panels else None
        if obj is not None:
            extra_context = {**(extra_context or {}),
                             "extra_blocks": [b for provider in panels for b in provider(request, obj)]}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _sensitive(self) -> bool:
        request = current_request()
        return request is not None and can_see_sensitive(request)

    @admin.display(description="来源", ordering="channel__sort")
    def channel_label(self, obj):
        return obj.channel.name

    @admin.display(description="记录编号", ordering="record_key")
    def record_no(self, obj):
        return obj.record_key.split(":", 1)[-1]  # the channel is its own column, not a "local:" prefix

    @admin.display(description="类型", ordering="type_code")
    def type_display(self, obj):
        if obj.type_code:
            return label("case_type", obj.type_code)
        return format_html('<span class="text-muted">{}（未映射）</span>', obj.type_label or "—")

    def _phones(self, obj) -> list[str]:
        sensitive = self._sensitive()
        out = []
        for p in obj.parties.all():
            if p.phone:
                out.append(audit.shown(obj, p.phone, "phone", sensitive))
            elif p.phone_masked:
                out.append(p.phone_masked)
        return out

    @admin.display(description="电话")
    def phones(self, obj):
        return "、".join(self._phones(obj)) or "—"

    @admin.display(description="涉及人员")
    def party_list(self, obj):
        sensitive = self._sensitive()
        rows = []
        for p in obj.parties.all():
            phone = audit.shown(obj, p.phone, "phone", sensitive) if p.phone else p.phone_masked
            idn = audit.shown(obj, p.id_number, "id_number", sensitive) if p.id_number else ""
            rows.append((p.role or "—", p.name or "不详", phone or "—", idn or "—"))
        if not rows:
            return "无"
        return format_html("<ul class='mb-0'>{}</ul>",
                           format_html_join("", "<li>{}：{}，电话 {}，证件 {}</li>", rows))

    @admin.display(description="转成案件")
    def case_link(self, obj):
        if not obj.converted_case_id:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_detail", args=[obj.converted_case_id]),
                           obj.converted_case.exchange_id)

    @admin.display(description="关闭原因")
    def close_reason(self, obj):
        return (obj.extra or {}).get("closed", {}).get("reason", "") or "—"



# --- 归集批次, 拒绝记录, 原始记录 -------------------------------------------------------------------------
class DistrictOnlyMixin:
    """Model permission and district level (or superuser)."""

    def has_module_permission(self, request):
        return district_level(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return district_level(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IngestUploadForm(forms.Form):
    channel = forms.ModelChoiceField(label="数据来源", queryset=Channel.objects.filter(enabled=True), to_field_name="key",
                                     empty_label="（请选择）")
    file = forms.FileField(label="文件", help_text="JSON Lines（.jsonl）或 Excel（.xlsx）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].widget.attrs["class"] = "form-select"
        self.fields["file"].widget.attrs.update({"class": "form-control", "accept": ",".join(INGEST_SUFFIXES)})
        self.fields["file"].help_text += f"，不超过 {ingest_max_bytes() // (1024 * 1024)} MB"

    def clean_file(self):
        f = self.cleaned_data["file"]
        name = (f.name or "").lower()
        if not name.endswith(INGEST_SUFFIXES):
            raise forms.ValidationError("只支持 .jsonl 或 .xlsx 文件")
        if f.size == 0:
            raise forms.ValidationError("文件为空，没有任何记录")
        if f.size > ingest_max_bytes():
            raise forms.ValidationError(f"文件超过 {ingest_max_bytes() // (1024 * 1024)} MB 的上限，请拆分后分批上传")
        return f


@admin.register(IngestBatch)
class IngestBatchAdmin(admin.ModelAdmin):
    """Batches: district level sees all, anyone else with the model permission only their own
    (an upload's progress and result pages, its rejected-records report)."""

    list_display = ["started_at", "channel", "file_name", "origin", "status", "read", "new", "updated",
                    "unchanged", "rejected_link", "user", "message"]
    list_filter = ["channel", "origin", "status"]
    search_fields = ["file_name"]
    list_select_related = ["channel", "user"]
    readonly_fields = fields = ["channel", "file_name", "origin", "status", "message", "read", "new", "updated",
                                "unchanged", "rejected_link", "started_at", "finished_at", "user", "report_link"]
    show_full_result_count = False
    change_list_template = "clues/ingestbatch_change_list.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if district_level(request.user) else qs.filter(user=request.user)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (
            obj is None or district_level(request.user) or obj.user_id == request.user.pk)

    def has_add_permission(self, request):
        return False  # batches come from uploads, the command and the pulls

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def may_upload(self, request) -> bool:
        return request.user.is_active and request.user.has_perm("clues.add_ingestbatch")

    @admin.display(description="拒绝")
    def rejected_link(self, obj):
        if not obj.rejected:
            return 0
        request = current_request()
        if request is None or not district_level(request.user):
            return obj.rejected  # the rejections list is a district-level screen
        return format_html('<a href="{}?batch__id__exact={}">{}</a>', reverse("admin:clues_rejection_changelist"),
                           obj.pk, obj.rejected)

    @admin.display(description="拒绝记录报告")
    def report_link(self, obj):
        if not obj.rejected:
            return "无拒绝记录"
        return format_html('<a href="{}">下载（CSV）</a>', reverse("admin:clues_ingestbatch_report", args=[obj.pk]))

    def changelist_view(self, request, extra_context=None):
        set_current_request(request)
        extra_context = {**(extra_context or {}), "may_upload": self.may_upload(request),
                         "upload_url": reverse("admin:clues_ingestbatch_upload"),
                         "quality_url": reverse("admin:clues_rawrecord_quality")
                         if district_level(request.user) else ""}
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        set_current_request(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload_view), name="clues_ingestbatch_upload"),
            path("<path:object_id>/result/", wrap(self.result_view), name="clues_ingestbatch_result"),
            path("<path:object_id>/progress/", wrap(self.progress_view), name="clues_ingestbatch_progress"),
            path("<path:object_id>/report/", wrap(self.report_view), name="clues_ingestbatch_report"),
        ] + super().get_urls()

    def _batch(self, request, object_id) -> IngestBatch:
        """The user's batch (or any, at district level) — else 404, never someone else's."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if batch is None:
            raise Http404("批次不存在或无权访问")
        return batch

    def upload_view(self, request):
        """Stores the file and queues its ingest (clues.uploads), then shows the result page,
        which follows the progress until the batch is done."""
        from clues import uploads

        if not self.may_upload(request):
            raise PermissionDenied
        form = IngestUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            batch = uploads.accept(form.cleaned_data["file"], form.cleaned_data["channel"], request.user)
            return HttpResponseRedirect(reverse("admin:clues_ingestbatch_result", args=[batch.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "上传导入",
                   "form": form, "max_mb": ingest_max_bytes() // (1024 * 1024),
                   "changelist_url": reverse("admin:clues_ingestbatch_changelist")}
        return TemplateResponse(request, "clues/ingest_upload.html", context)

    def result_view(self, request, object_id):
        from clues import uploads

        batch = self._batch(request, object_id)
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": f"导入结果：{batch.channel} {batch.file_name}".strip(),
                   "batch": batch, "progress": uploads.progress(batch), "counts": batch.counts(),
                   "progress_url": reverse("admin:clues_ingestbatch_progress", args=[batch.pk]),
                   "upload_url": reverse("admin:clues_ingestbatch_upload") if self.may_upload(request) else "",
                   "changelist_url": reverse("admin:clues_ingestbatch_changelist")}
        if batch.finished and batch.rejected:
            context.update({
                "report_url": reverse("admin:clues_ingestbatch_report", args=[batch.pk]),
                "rejections_url": f"{reverse('admin:clues_rejection_changelist')}?batch__id__exact={batch.pk}"
                if district_level(request.user) else "",
                "top_reasons": list(batch.rejections.order_by("line", "id").values("line", "reason")[:20]),
            })
        return TemplateResponse(request, "clues/ingest_result.html", context)

    def progress_view(self, request, object_id):
        from clues import uploads

        return JsonResponse(uploads.progress(self._batch(request, object_id)))

    def report_view(self, request, object_id):
        from clues.ingest import write_report

        batch = self._batch(request, object_id)
        report = Path(batch.report_path) if batch.report_path else None
        if report is None or not report.exists():
            report = write_report(batch)
        from secure import audit

        audit.export(request, f"拒绝记录报告：{batch}", rows=batch.rejected, filters={"batch": batch.pk})
        return FileResponse(report.open("rb"), as_attachment=True, filename=report.name,
                            content_type="text/csv; charset=utf-8")


@admin.register(Rejection)
class RejectionAdmin(DistrictOnlyMixin, admin.ModelAdmin):
    list_display = ["batch", "line", "record_key", "reason", "excerpt_short"]
    list_filter = ["batch__channel", "batch__origin"]
    search_fields = ["reason", "record_key"]
    list_select_related = ["batch"]
    readonly_fields = fields = ["batch", "line", "record_key", "reason", "excerpt_masked"]
    show_full_result_count = False

    # the excerpt is stored SM4-encrypted and shown masked (names, phones, ID numbers)
    @admin.display(description="原始内容（节选）")
    def excerpt_short(self, obj):
        text = redact.mask_excerpt(obj.excerpt or "")
        return text if len(text) <= 80 else text[:80] + "…"

    @admin.display(description="原始内容（节选，已脱敏）")
    def excerpt_masked(self, obj):
        return redact.mask_excerpt(obj.excerpt or "")

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in {"batch__id__exact", "batch__id", "reason", "batch__started_at__gte", "batch__started_at__lt"} or super().lookup_allowed(lookup, value, request)


class HasErrorFilter(admin.SimpleListFilter):
    title = "清洗结果"
    parameter_name = "clean"

    def lookups(self, request, model_admin):
        return [("ok", "清洗成功"), ("error", "清洗失败（被拒绝）")]

    def queryset(self, request, queryset):
        if self.value() == "ok":
            return queryset.filter(clean_error="")
        if self.value() == "error":
            return queryset.exclude(clean_error="")
        return queryset


def scoped_raw(user, queryset):
    """Raw records by the region of what was derived from them (clue or case); records that
    derived nothing (rejected) only for district-level users — see clues.actions."""
    q_clue, q_case = scope_q(user, "clue__region_path"), scope_q(user, "case__region_path")
    if q_clue is None:
        return queryset
    q = q_clue | q_case
    if actions.is_district_level(user):
        q |= Q(clue__isnull=True, case__isnull=True)
    return queryset.filter(q)


@admin.register(RawRecord)
class RawRecordAdmin(DistrictOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["record_key", "channel", "first_seen", "last_seen", "times_seen", "address_quality",
                    "type_missed", "clean_error"]
    list_filter = ["channel", HasErrorFilter, "address_quality", "type_missed"]
    search_fields = ["record_key", "clean_error"]
    list_select_related = ["channel"]
    readonly_fields = fields = ["record_key", "channel", "source_id", "payload_masked", "first_seen", "last_seen",
                                "times_seen", "last_batch", "clean_error", "warnings", "type_missed",
                                "address_quality", "address_standard", "case"]
    show_full_result_count = False

    # the payload is stored SM4-encrypted; this screen shows it masked (names, phones, ID numbers) —
    # the full values are on the clue / case pages for whoever may see them there
    @admin.display(description="原始数据（已脱敏）")
    def payload_masked(self, obj):
        text = json.dumps(redact.mask_payload(obj.payload), ensure_ascii=False, indent=2)
        return format_html('<pre class="raw-payload">{}</pre>', text)

    def get_queryset(self, request):
        return scoped_raw(request.user, super().get_queryset(request))

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in {"clean_error", "first_seen__gte", "first_seen__lt"} or \
            super().lookup_allowed(lookup, value, request)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("quality/", wrap(self.quality_view), name="clues_rawrecord_quality")] + super().get_urls()

    def quality_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        channels = list(Channel.objects.all())
        form = quality.PeriodForm(request.GET or None, months=quality.months())
        month = form.period() if form.is_valid() else None
        key = request.GET.get("channel") or ""
        selected = [c for c in channels if c.key == key] or channels
        rows = [quality.channel_quality(c, month, lambda qs: scoped_raw(request.user, qs), request.user)
                for c in selected]
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "数据质量",
                   "form": form, "rows": rows, "channels": channels, "channel_key": key,
                   "month": month, "raw_url": reverse("admin:clues_rawrecord_changelist"),
                   "rejection_url": reverse("admin:clues_rejection_changelist"),
                   "clue_url": reverse("admin:clues_clue_changelist")}
        return TemplateResponse(request, "clues/quality.html", context)


from clues import admin_channels, admin_rules  # noqa: E402,F401  数据来源, 清洗规则 (register their admins)
