import io
import os
import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.styles import Font

from lowcode import excel
from lowcode.excel_admin import TOKEN_RE, XLSX_MIME, ImportUploadForm, PendingUploadsMixin, imports_dir
from orgs import importer
from orgs.models import Organization, Region

STORED_EXTENSIONS = {".xlsx", ".xlsm", ".csv"}
KIND_PERMS = {"region": "orgs.add_region", "org": "orgs.add_organization", "user": "accounts.add_user"}
SHOWN_ERROR_ROWS, SHOWN_OK_ROWS = 500, 100


class OrgImportMixin(PendingUploadsMixin):
    """导入区域/组织机构/用户 (day one): upload → preview with a Chinese reason per row → confirm,
    nothing written until the confirm and nothing half-written (orgs.importer). One screen for
    the three kinds; the file's headers say which it is. Region scope: the user's subtree."""

    pending_session_key = "orgs_imports"
    change_list_template = "orgs/admin/change_list.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="%s_%s_import" % info),
            path("import/template/<str:kind>/", wrap(self.template_view), name="%s_%s_import_template" % info),
        ] + super().get_urls()

    def _url(self, name: str, *args) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args,
                       current_app=self.admin_site.name)

    @staticmethod
    def _kinds(request) -> list[str]:
        return [k for k, perm in KIND_PERMS.items() if request.user.has_perm(perm)]

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self._kinds(request):
            extra_context["org_import_url"] = self._url("import")
        return super().changelist_view(request, extra_context)

    def _context(self, request, **extra):
        kinds = self._kinds(request)
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": "导入区域、组织机构、用户",
                "changelist_url": self._url("changelist"), "import_url": self._url("import"),
                "kinds": [(k, importer.KINDS[k]["label"], importer.KINDS[k]["columns"],
                           self._url("import_template", k)) for k in kinds],
                "max_rows": excel.max_rows(), "max_mb": excel.max_bytes() // (1024 * 1024), **extra}

    def _form(self, request, form=None, error: str = ""):
        return TemplateResponse(request, "orgs/admin/import_form.html",
                                self._context(request, form=form or ImportUploadForm(), error=error))

    def _preview(self, request, plan, token: str, error: str = "", skip_errors=False):
        errors = plan.error_rows[:SHOWN_ERROR_ROWS]
        ok = [r for r in plan.rows if not r.errors][:SHOWN_OK_ROWS]
        shown = sorted(errors + ok, key=lambda r: r.number)
        return TemplateResponse(request, "orgs/admin/import_preview.html", self._context(
            request, plan=plan, rows=[(r, [r.cells.get(h, "") for h in plan.columns]) for r in shown],
            counts=plan.counts, token=token, error=error, skip_errors=skip_errors,
            truncated=len(shown) < len(plan.rows), title=f"导入{plan.kind_label or '数据'}：预览"))

    def _plan(self, request, stored, name):
        plan = importer.plan_import(importer.read(stored, name), user=request.user, filename=name)
        if plan.kind and plan.kind not in self._kinds(request):
            plan.file_errors.append(f"您没有导入{plan.kind_label}的权限。")
        return plan

    def import_view(self, request):
        if not self._kinds(request):
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
            plan = self._plan(request, stored, name)
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
            plan = self._plan(request, claimed, info["name"])  # validated again: the data may have changed
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
            result = importer.apply_import(plan, user=request.user, request=request)
        except Exception:
            os.replace(claimed, stored)
            raise
        claimed.unlink(missing_ok=True)
        self._forget(request, token)
        skipped = f"，跳过有错误的 {result['rejected']} 行" if result["rejected"] else ""
        summary = (f"导入{plan.kind_label}完成：新增 {result['new']} 条，更新 {result['updated']} 条，"
                   f"无变化 {result['unchanged']} 条{skipped}。")
        self.message_user(request, summary, messages.SUCCESS)
        return TemplateResponse(request, "orgs/admin/import_done.html", self._context(
            request, summary=summary, passwords=result["passwords"], title=f"导入{plan.kind_label}：完成"))

    def template_view(self, request, kind):
        if kind not in self._kinds(request):
            raise PermissionDenied
        spec = importer.KINDS[kind]
        wb = Workbook()
        ws = wb.active
        ws.title = excel.DATA_SHEET
        ws.append([c[0] for c in spec["columns"]])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i in range(len(spec["columns"])):
            ws.column_dimensions[chr(ord("A") + i)].number_format = "@"
            ws.column_dimensions[chr(ord("A") + i)].width = 20
        help_ws = wb.create_sheet(excel.HELP_SHEET)
        help_ws.append(["列名", "是否必填", "填写要求"])
        for row in spec["columns"]:
            help_ws.append(list(row))
        buf = io.BytesIO()
        wb.save(buf)
        response = HttpResponse(buf.getvalue(), content_type=XLSX_MIME)
        response["Content-Disposition"] = content_disposition_header(True, f"{spec['label']}导入模板.xlsx")
        return response


@admin.register(Region)
class RegionAdmin(OrgImportMixin, admin.ModelAdmin):
    list_display = ["name", "code", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]


@admin.register(Organization)
class OrganizationAdmin(OrgImportMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    autocomplete_fields = ["region"]
