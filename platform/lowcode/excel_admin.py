"""Excel buttons for metadata admins (mixed in before ``MetaModelAdmin``):

- 下载导入模板 (``excel/template/?scope=<code>``) and 导入 (upload → preview → confirm) need the
  add permission; the uploaded file stays on the server (MEDIA_ROOT/imports/<uuid>.xlsx) between
  preview and confirm, is found again only through the user's session, and is validated again
  on confirm;
- 导出Excel (``excel/export/?<the changelist's query string>``) needs the view permission and
  exports exactly the changelist's rows: the admin's row-level scope, filters, search, ordering.
"""
from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from lowcode import excel, registry
from secure import audit

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_KEY = "lowcode_excel_imports"
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
STORED_EXTENSIONS = {".xlsx", ".xlsm", ".csv"}
KEEP_SECONDS = 24 * 3600
MAX_PENDING = 5


def imports_dir() -> Path:
    d = Path(settings.MEDIA_ROOT) / "imports"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _purge_old_uploads() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for p in imports_dir().iterdir():
        try:
            if p.is_file() and p.stat().st_mtime < cutoff:
                p.unlink()
        except OSError:
            pass


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="导入文件",
        help_text="请上传用导入模板填写的 Excel 文件（.xlsx），也支持 CSV。",
        error_messages={"required": "请选择要导入的文件。", "empty": "上传的文件是空的，请选择填写好的导入模板。",
                        "invalid": "没有收到文件，请重新选择。", "missing": "没有收到文件，请重新选择。"},
    )



class PendingUploadsMixin:
    """Uploaded files waiting between preview and confirm: kept server-side under imports_dir(),
    known to the session by a random token, at most MAX_PENDING per session (oldest dropped)."""

    pending_session_key = SESSION_KEY

    def _pending(self, request) -> dict:
        return dict(request.session.get(self.pending_session_key) or {})

    def _remember(self, request, token: str, info: dict) -> None:
        pending = self._pending(request)
        pending[token] = info
        while len(pending) > MAX_PENDING:  # oldest first (dicts keep insertion order)
            old, old_info = next(iter(pending.items()))
            pending.pop(old)
            (imports_dir() / f"{old}{old_info.get('ext', '')}").unlink(missing_ok=True)
        request.session[self.pending_session_key] = pending

    def _forget(self, request, token: str) -> None:
        pending = self._pending(request)
        pending.pop(token, None)
        request.session[self.pending_session_key] = pending


class ExcelAdminMixin(PendingUploadsMixin):
    """Adds Excel template / import / export to a ``MetaModelAdmin``. Domain-specific columns
    come from the entity's ``ExcelHooks`` (``lowcode.excel.register_hooks``) or ``excel_hooks``."""

    change_list_template = "lowcode/change_list.html"
    excel_hooks: type[excel.ExcelHooks] | None = None
    excel_export_max_rows: int | None = None

    # -- helpers ---------------------------------------------------------------------
    def get_excel_hooks(self, request) -> excel.ExcelHooks:
        cls = self.excel_hooks or excel.hooks_class(self.entity)
        return cls(user=request.user, can_see_sensitive=bool(self.can_see_sensitive(request)))

    def _excel_url(self, name: str) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse(f"admin:{info[0]}_{info[1]}_excel_{name}", current_app=self.admin_site.name)

    def _changelist_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                       current_app=self.admin_site.name)

    def _excel_scopes(self) -> list[tuple[str, str]]:
        config = registry.entity_config(self.entity)
        items = registry.get_meta(self.entity).dictionaries.get(config.scope_dictionary, {}) \
            if config.scope_dictionary else {}
        return [(code, e.path_label) for code, e in items.items() if e.is_active]

    def _valid_scope(self, value: str | None) -> str | None:
        return value if value and value in dict(self._excel_scopes()) else None

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("excel/template/", wrap(self.excel_template_view), name="%s_%s_excel_template" % info),
            path("excel/import/", wrap(self.excel_import_view), name="%s_%s_excel_import" % info),
            path("excel/export/", wrap(self.excel_export_view), name="%s_%s_excel_export" % info),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        if self.has_add_permission(request):
            scope = self._valid_scope(self.get_scope_value(request))
            extra_context["excel_import_url"] = self._excel_url("import")
            extra_context["excel_template_url"] = self._excel_url("template") + (f"?scope={scope}" if scope else "")
        if self.has_view_or_change_permission(request):
            query = request.GET.urlencode()
            extra_context["excel_export_url"] = self._excel_url("export") + (f"?{query}" if query else "")
        return super().changelist_view(request, extra_context)

    # -- 下载导入模板 -------------------------------------------------------------------
    def excel_template_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        scope = self._valid_scope(request.GET.get("scope"))
        data = excel.template_workbook(self.entity, self.get_excel_hooks(request), scope)
        suffix = ""
        if scope:
            suffix = "_" + dict(self._excel_scopes())[scope].split(" › ")[-1]
        response = HttpResponse(data, content_type=XLSX_MIME)
        response["Content-Disposition"] = content_disposition_header(
            True, f"{self.opts.verbose_name}导入模板{suffix}.xlsx")
        return response

    # -- 导入 ------------------------------------------------------------------------
    def _excel_context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"导入{self.opts.verbose_name}",
            "changelist_url": self._changelist_url(),
            "import_url": self._excel_url("import"),
            "template_url": self._excel_url("template"),
            "scopes": self._excel_scopes(),
            "max_rows": excel.max_rows(),
            "max_mb": excel.max_bytes() // (1024 * 1024),
            **extra,
        }

    def _excel_form(self, request, form=None, error: str = ""):
        context = self._excel_context(request, form=form or ImportUploadForm(), error=error)
        return TemplateResponse(request, "lowcode/import_form.html", context)

    def _excel_preview(self, request, preview: excel.ImportPreview, token: str, error: str = "",
                       skip_errors: bool = False):
        shown = preview.shown_rows()
        rows = [(r, r.cell_errors(preview.headers)) for r in shown]
        context = self._excel_context(
            request, preview=preview, rows=rows, token=token, error=error, skip_errors=skip_errors,
            truncated=len(shown) < preview.total, title=f"导入{self.opts.verbose_name}：预览")
        return TemplateResponse(request, "lowcode/import_preview.html", context)

    def excel_import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("action") == "confirm":
            return self._excel_confirm(request)
        if request.method != "POST":
            return self._excel_form(request)
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._excel_form(request, form)
        upload = form.cleaned_data["file"]
        if upload.size > excel.max_bytes():
            return self._excel_form(request, form, f"文件太大（{upload.size / 1048576:.1f} MB），"
                                                   f"单个文件不能超过 {excel.max_bytes() // 1048576} MB，请拆分后分批导入。")
        _purge_old_uploads()
        ext = os.path.splitext(upload.name or "")[1].lower()
        ext = ext if ext in STORED_EXTENSIONS else ".bin"
        token = uuid.uuid4().hex
        stored = imports_dir() / f"{token}{ext}"
        with open(stored, "wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        try:
            table = excel.read_table(stored, upload.name or "")
        except excel.ImportFileError as exc:
            stored.unlink(missing_ok=True)
            return self._excel_form(request, form, str(exc))
        preview = excel.preview_import(self.entity, table, self.get_excel_hooks(request))
        if preview.file_errors:
            stored.unlink(missing_ok=True)
            token = ""
        else:
            self._remember(request, token, {"entity": self.entity, "ext": ext, "name": (upload.name or "")[:200]})
        return self._excel_preview(request, preview, token)

    def _excel_confirm(self, request):
        token = request.POST.get("token", "")
        info = self._pending(request).get(token) if TOKEN_RE.match(token) else None
        if not info or info.get("entity") != self.entity:
            return self._excel_form(request, error="导入任务不存在或已过期，请重新上传文件。")
        stored = imports_dir() / f"{token}{info['ext']}"
        claimed = stored.with_name(stored.name + ".lock")
        try:
            os.replace(stored, claimed)  # atomic: a double submit cannot import twice
        except FileNotFoundError:
            self._forget(request, token)
            return self._excel_form(request, error="该文件已经导入或已过期，请重新上传。")
        skip = request.POST.get("skip_errors") in ("1", "on", "true")
        try:
            table = excel.read_table(claimed, info.get("name", ""))
            outcome = excel.run_import(self.entity, table, self.get_excel_hooks(request), skip_errors=skip)
        except excel.ImportFileError as exc:
            claimed.unlink(missing_ok=True)
            self._forget(request, token)
            return self._excel_form(request, error=str(exc))
        except Exception:
            os.replace(claimed, stored)
            raise
        if outcome.ok:
            claimed.unlink(missing_ok=True)
            self._forget(request, token)
            self.message_user(request, outcome.message, messages.SUCCESS)
            return HttpResponseRedirect(self._changelist_url())
        os.replace(claimed, stored)
        return self._excel_preview(request, outcome.preview, token, error=outcome.message, skip_errors=skip)

    # -- 导出 ------------------------------------------------------------------------
    def excel_export_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        back = self._changelist_url() + (f"?{request.GET.urlencode()}" if request.GET else "")
        try:
            cl = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            self.message_user(request, "筛选条件无效，无法导出，请重新选择筛选条件。", messages.ERROR)
            return HttpResponseRedirect(self._changelist_url())
        queryset = cl.get_queryset(request)
        limit = self.excel_export_max_rows or excel.max_export_rows()
        total = queryset.count()
        if total > limit:
            self.message_user(request, f"当前筛选结果共 {total} 条，超过单次导出上限 {limit} 条。"
                                       "请增加筛选条件（如登记时间、区域）后分批导出。", messages.ERROR)
            return HttpResponseRedirect(back)
        scope = self._valid_scope(self.get_scope_value(request))
        name = str(self.opts.verbose_name)
        hooks = self.get_excel_hooks(request)
        filters = {k: (v if len(v) > 1 else v[0]) for k, v in request.GET.lists()}
        out = excel.export_workbook(self.entity, queryset, hooks, scope=scope, sheet_title=name, filters=filters)
        # the party columns and every sensitive runtime field (by its label) go out in full
        unmasked = ("id_number", "phone") + tuple(
            s.label for s in registry.get_meta(self.entity).extra_fields() if s.sensitive)
        audit.export(request, name, rows=total, filters=filters,
                     unmasked_fields=unmasked if hooks.can_see_sensitive else ())
        stamp = timezone.localtime().strftime("%Y%m%d_%H%M")
        return FileResponse(out, as_attachment=True, filename=f"{name}_{stamp}.xlsx", content_type=XLSX_MIME)
