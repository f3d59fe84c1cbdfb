"""Admin of the address library: list with search and street/community filters, history, and
导入 (upload → preview with per-row errors → confirm), reusing lowcode.excel.read_table."""
from __future__ import annotations

import io
import os
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.styles import Font
from simple_history.admin import SimpleHistoryAdmin

from addresses import importer, normalize
from addresses.models import StandardAddress
from lowcode import excel
from lowcode.excel_admin import TOKEN_RE, XLSX_MIME, ImportUploadForm, PendingUploadsMixin, imports_dir
from orgs.models import Region

SESSION_KEY = "addresses_imports"
STORED_EXTENSIONS = {".xlsx", ".xlsm", ".csv"}
SHOWN_OK_ROWS = 100
SHOWN_ERROR_ROWS = 500
COLUMN_NOTES = [
    (importer.TEXT, "必填", "完整标准地址，如：示范区青山镇竹溪村文化路313号锦绣家园23幢2单元203室"),
    (importer.STREET, "至少填一个编码", "街道/镇的区划编码"),
    (importer.COMMUNITY, "至少填一个编码", "社区/村的区划编码，须属于所填街道"),
    (importer.GRID, "至少填一个编码", "网格编码，须属于所填社区"),
    (importer.LON, "选填", "经度，十进制度数（73～136），与纬度同时填写"),
    (importer.LAT, "选填", "纬度，十进制度数（3～54），与经度同时填写"),
    (importer.SOURCE, "选填", "来源说明，不填则为文件名"),
    (importer.STATUS, "选填", "启用 / 停用，不填为启用"),
]


class StreetFilter(admin.SimpleListFilter):
    title = "街道/镇"
    parameter_name = "street"

    def lookups(self, request, model_admin):
        return list(Region.objects.filter(level=Region.Level.STREET).values_list("code", "name"))

    def queryset(self, request, queryset):
        return queryset.filter(street_code=self.value()) if self.value() else queryset


class CommunityFilter(admin.SimpleListFilter):
    title = "社区/村"
    parameter_name = "community"

    def lookups(self, request, model_admin):
        qs = Region.objects.filter(level=Region.Level.COMMUNITY)
        street = request.GET.get(StreetFilter.parameter_name)
        if street:
            qs = qs.filter(parent__code=street)
        return list(qs.values_list("code", "name"))

    def queryset(self, request, queryset):
        return queryset.filter(community_code=self.value()) if self.value() else queryset


class StandardAddressForm(forms.ModelForm):
    class Meta:
        model = StandardAddress
        fields = ["text", "region", "longitude", "latitude", "source", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "region" in self.fields:
            self.fields["region"].queryset = Region.objects.filter(level__gte=Region.Level.STREET)

    def clean_text(self):
        return normalize.standard_text(self.cleaned_data.get("text", ""))

    def clean(self):
        data = super().clean()
        text, region = data.get("text"), data.get("region")
        if not text or region is None:
            return data
        probe = StandardAddress(text=text, region=region)
        probe.refresh_derived()
        if not probe.key:
            self.add_error("text", "无法从标准地址中识别出门牌：应包含“道路+门牌号”“小区+楼幢”或“村/社区+楼幢/组/号”")
        else:
            same = StandardAddress.objects.filter(key=probe.key, street_code=probe.street_code) \
                .exclude(pk=self.instance.pk).first()
            if same is not None:
                self.add_error("text", f"与已有标准地址“{same.text}”是同一地址（规范化后相同）")
        if (data.get("longitude") is None) != (data.get("latitude") is None):
            self.add_error("longitude", "经度和纬度须同时填写（或都不填）")
        return data


@admin.register(StandardAddress)
class StandardAddressAdmin(PendingUploadsMixin, SimpleHistoryAdmin):
    pending_session_key = SESSION_KEY
    form = StandardAddressForm
    change_list_template = "addresses/admin/change_list.html"
    list_display = ["text", "street_name_display", "community_name_display", "region", "longitude", "latitude",
                    "is_active", "updated_at"]
    list_filter = [StreetFilter, CommunityFilter, "is_active", "source"]
    search_fields = ["text", "key", "road", "estate", "street_code", "community_code", "grid_code"]
    list_select_related = ["region__parent__parent"]
    autocomplete_fields = ["region"]
    readonly_fields = ["key", "road", "number", "estate", "building", "unit", "room", "street_code",
                       "community_code", "grid_code", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["text", "region", ("longitude", "latitude"), "source", "is_active"]}),
        ("自动解析（保存时由标准地址生成）", {"fields": ["key", ("road", "number", "estate"), ("building", "unit", "room"),
                                         ("street_code", "community_code", "grid_code"),
                                         ("created_at", "updated_at")]}),
    ]
    list_per_page = 50

    @admin.display(description="街道/镇")
    def street_name_display(self, obj):
        return obj.street_name

    @admin.display(description="社区/村")
    def community_name_display(self, obj):
        return obj.community_name

    # -- import ------------------------------------------------------------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="%s_%s_import" % info),
            path("import/template/", wrap(self.template_view), name="%s_%s_import_template" % info),
        ] + super().get_urls()

    def _url(self, name: str) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", current_app=self.admin_site.name)

    def _can_import(self, request) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self._can_import(request):
            extra_context["address_import_url"] = self._url("import")
        return super().changelist_view(request, extra_context)

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": "导入标准地址",
                "changelist_url": self._url("changelist"), "import_url": self._url("import"),
                "template_url": self._url("import_template"), "columns": COLUMN_NOTES,
                "max_rows": excel.max_rows(), "max_mb": excel.max_bytes() // (1024 * 1024), **extra}

    def _form(self, request, form=None, error: str = ""):
        return TemplateResponse(request, "addresses/admin/import_form.html",
                                self._context(request, form=form or ImportUploadForm(), error=error))

    def _preview(self, request, plan: importer.ImportPlan, token: str, error: str = "", skip_errors=False):
        errors = plan.error_rows[:SHOWN_ERROR_ROWS]
        ok = [r for r in plan.rows if not r.errors][:SHOWN_OK_ROWS]
        shown = sorted(errors + ok, key=lambda r: r.number)
        return TemplateResponse(request, "addresses/admin/import_preview.html", self._context(
            request, plan=plan, rows=shown, counts=plan.counts, token=token, error=error,
            skip_errors=skip_errors, truncated=len(shown) < len(plan.rows), title="导入标准地址：预览",
            headers=[h for h in importer.COLUMNS if h in plan.headers]))

    def import_view(self, request):
        if not self._can_import(request):
            raise PermissionDenied
        if request.method != "POST":
            return self._form(request)
        if request.POST.get("action") == "confirm":
            return self._confirm(request)
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._form(request, form)
        upload = form.cleaned_data["file"]
        if upload.size > excel.max_bytes():
            return self._form(request, form, f"文件太大（{upload.size / 1048576:.1f} MB），单个文件不能超过 "
                                             f"{excel.max_bytes() // 1048576} MB，请拆分后分批导入。")
        ext = os.path.splitext(upload.name or "")[1].lower()
        ext = ext if ext in STORED_EXTENSIONS else ".bin"
        token = uuid.uuid4().hex
        stored = imports_dir() / f"{token}{ext}"
        with open(stored, "wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        name = (upload.name or "")[:200]
        try:
            plan = importer.plan_import(importer.read(stored, name), source=name)
        except excel.ImportFileError as exc:
            stored.unlink(missing_ok=True)
            return self._form(request, form, str(exc))
        if plan.file_errors:
            stored.unlink(missing_ok=True)
            token = ""
        else:
            self._remember(request, token, {"ext": ext, "name": name})
        return self._preview(request, plan, token)

    def _confirm(self, request):
        token = request.POST.get("token", "")
        info = self._pending(request).get(token) if TOKEN_RE.match(token) else None
        if not info:
            return self._form(request, error="导入任务不存在或已过期，请重新上传文件。")
        stored = imports_dir() / f"{token}{info['ext']}"
        claimed = stored.with_name(stored.name + ".lock")
        try:
            os.replace(stored, claimed)  # atomic: a double submit cannot import twice
        except FileNotFoundError:
            self._forget(request, token)
            return self._form(request, error="该文件已经导入或已过期，请重新上传。")
        skip = request.POST.get("skip_errors") in ("1", "on", "true")
        try:
            plan = importer.plan_import(importer.read(claimed, info["name"]), source=info["name"])
        except excel.ImportFileError as exc:
            claimed.unlink(missing_ok=True)
            self._forget(request, token)
            return self._form(request, error=str(exc))
        if plan.file_errors or (plan.error_rows and not skip):
            os.replace(claimed, stored)
            message = "文件有误，未导入任何数据。" if plan.file_errors else (
                f"有 {len(plan.error_rows)} 行数据有错误，未导入任何数据。请修改后重新上传，"
                "或勾选“跳过错误行”只导入正确的行。")
            return self._preview(request, plan, token, error=message, skip_errors=skip)
        try:
            counts = importer.apply_import(plan, user=request.user)
        except Exception:
            os.replace(claimed, stored)
            raise
        claimed.unlink(missing_ok=True)
        self._forget(request, token)
        skipped = f"，跳过有错误的 {counts['rejected']} 行" if counts["rejected"] else ""
        self.message_user(request, f"导入完成：新增 {counts['new']} 条，更新 {counts['updated']} 条，"
                                   f"无变化 {counts['unchanged']} 条{skipped}。", messages.SUCCESS)
        return HttpResponseRedirect(self._url("changelist"))

    def template_view(self, request):
        if not self._can_import(request):
            raise PermissionDenied
        wb = Workbook()
        ws = wb.active
        ws.title = excel.DATA_SHEET
        ws.append([c[0] for c in COLUMN_NOTES])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for letter in "BCD":
            ws.column_dimensions[letter].number_format = "@"
        ws.column_dimensions["A"].width = 60
        help_ws = wb.create_sheet(excel.HELP_SHEET)
        help_ws.append(["列名", "是否必填", "填写要求"])
        for row in COLUMN_NOTES:
            help_ws.append(list(row))
        help_ws.append([])
        help_ws.append(["说明", "", "同一标准地址再次导入不会重复新增；区域、坐标、状态有变化的会更新并留痕。"])
        buf = io.BytesIO()
        wb.save(buf)
        response = HttpResponse(buf.getvalue(), content_type=XLSX_MIME)
        response["Content-Disposition"] = content_disposition_header(True, "标准地址导入模板.xlsx")
        return response
