"""One generic ModelAdmin whose screens come from metadata, through Django admin's per-request
``get_*`` hooks (no subclass per case type, no forked templates)."""
from __future__ import annotations

import contextvars
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path

from lowcode import forms as meta_forms
from lowcode import lists, registry
from lowcode import sensitive as sensitive_values

SCOPE_PARAM = "scope"
# Admin column callables get only the object; the request they format for (masking depends on
# the user) travels in a context variable, which is per thread/task — never on the shared admin.
_request_var: contextvars.ContextVar = contextvars.ContextVar("lowcode_request", default=None)


def set_current_request(request) -> None:
    _request_var.set(request)


def current_request():
    return _request_var.get()


def format_display(meta: registry.EntityMeta, spec, value, can_see_sensitive: bool, obj=None) -> Any:
    """A field's value as screens show it: sensitive values masked unless the user may see them
    (a full value shown for ``obj`` is noted for the security audit log)."""
    if spec.sensitive:
        from secure import audit

        if not can_see_sensitive:
            return audit.shown(obj, str(value) if value else "", spec.fieldtype, False)
        if value and obj is not None:  # the audit log names a runtime field by its label
            audit.unmasked(obj, spec.fieldtype if spec.fieldtype in audit.SENSITIVE_LABELS else spec.label)
    return meta.display_value(spec, value)


def display_sections(entity: str, obj, scope_value: str | None, screen: str, roles: tuple[str, ...],
                     fmt) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Read-only sections of a layout screen ("detail", "review", "h5"…): (title, [(label, shown
    value)]). ``fmt(spec, obj, raw)`` formats one value (e.g. ``format_display`` with masking).
    Shared by the PC detail screens and the H5 case page."""
    meta = registry.get_meta(entity)
    out = []
    for title, codes in meta_forms.visible_sections(meta, scope_value, screen, roles):
        rows = []
        for code in codes:
            spec = meta.fields[code]
            rows.append((spec.label, fmt(spec, obj, lists.raw_value(entity, obj, spec))))
        out.append((title, rows))
    return out


class ScopedAdminMixin:
    """Answers 404 for objects outside ``get_queryset`` on every object URL (change, history,
    history form), so a row-level scope in get_queryset cannot be bypassed by URL."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index for a missing object; for rows outside the user's
        # scope that leaks nothing but still "works". Answer 404 like every other path.
        raise Http404("记录不存在或无权访问")

    def _require_in_scope(self, request, object_id) -> None:
        from django.contrib.admin.utils import unquote

        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404("记录不存在或无权访问")

    # simple-history falls back to the history table for objects missing from get_queryset
    # (meant for deleted rows) — that would show other regions' records. Scope them too.
    def history_view(self, request, object_id, extra_context=None):
        self._require_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._require_in_scope(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class MetaModelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    entity: str = ""
    change_form_template = "lowcode/change_form.html"
    detail_screens = ("detail", "review")

    # -- per-request context ------------------------------------------------------------
    @property
    def meta(self) -> registry.EntityMeta:
        return registry.get_meta(self.entity)

    @property
    def config(self) -> registry.EntityConfig:
        return registry.entity_config(self.entity)

    def get_roles(self, request) -> tuple[str, ...]:
        """Role codes used to pick per-role layouts and lists: the user model's ``role_codes``
        (stable codes, not group names — a renamed role keeps its layouts)."""
        if not request.user.is_authenticated:
            return ()
        return tuple(getattr(request.user, "role_codes", ()))

    def can_see_sensitive(self, request) -> bool:
        return request.user.is_superuser

    def get_scope_value(self, request, obj=None) -> str | None:
        if not self.config.scope_field:
            return None
        posted = request.POST.get(self.config.scope_field) if request.method == "POST" else None
        if posted:
            return posted
        if obj is not None:
            return getattr(obj, self.config.scope_field) or None
        return request.GET.get(SCOPE_PARAM) or request.GET.get(self.config.scope_field) or None

    # -- columns ---------------------------------------------------------------------
    def format_value(self, request, spec, obj, value) -> Any:
        return format_display(self.meta, spec, value, self.can_see_sensitive(request), obj)

    def __getattr__(self, name: str):
        # "x__<code>" columns and read-only fields are generated from metadata on demand.
        if name.startswith(lists.COLUMN_PREFIX) and not name.startswith("__"):
            code = name[len(lists.COLUMN_PREFIX):]
            meta = registry.get_meta(self.entity)
            if code in meta.fields:
                cache = self.__dict__.setdefault("_column_cache", {})
                key = (code, meta.version)
                if key not in cache:  # Django looks the column up once per cell
                    def display(spec, obj, value):
                        request = _request_var.get()
                        return self.format_value(request, spec, obj, value) if request else value

                    if len(cache) > 1000:
                        cache.clear()
                    cache[key] = lists.make_column(self.entity, code, display)
                return cache[key]
        raise AttributeError(name)

    def list_columns(self, request) -> list[str]:
        spec = self.meta.list_spec(self.get_roles(request))
        cols = [c for c in spec.columns if c in self.meta.fields or c == "__str__"]
        cols += [f.code for f in self.meta.fields.values() if f.in_list_view and f.code not in cols and not f.hidden]
        return cols

    def get_list_display(self, request):
        _request_var.set(request)
        return [c if c == "__str__" else lists.COLUMN_PREFIX + c for c in self.list_columns(request)]

    def get_list_display_links(self, request, list_display):
        return list_display[:1]

    def get_changelist(self, request, **kwargs):
        """A row's link opens the read-only detail view; 编辑 is a button there (a popup lookup
        still picks the row)."""
        base = super().get_changelist(request, **kwargs)
        info = self.opts.app_label, self.opts.model_name

        class DetailChangeList(base):
            def url_for_result(self, result):
                from django.urls import reverse

                return reverse("admin:%s_%s_detail" % info, args=[result.pk], current_app=self.model_admin.admin_site.name)

        return DetailChangeList

    def get_list_filter(self, request):
        spec = self.meta.list_spec(self.get_roles(request))
        codes = list(spec.filters) + [f.code for f in self.meta.fields.values()
                                      if f.in_standard_filter and f.code not in spec.filters]
        return [cls for cls in (lists.make_filter(self.entity, c) for c in codes) if cls]

    def search_specs(self, roles: tuple[str, ...]) -> list:
        """The searchable fields: the list's search fields, then every field marked 可搜索."""
        spec = self.meta.list_spec(roles)
        codes = list(spec.search_fields) + [f.code for f in self.meta.fields.values()
                                            if f.search_index and f.code not in spec.search_fields]
        return [self.meta.fields[c] for c in dict.fromkeys(codes) if c in self.meta.fields]

    def exact_search_specs(self, roles: tuple[str, ...]) -> list:
        """Searchable sensitive runtime fields: encrypted, so matched whole by their blind index."""
        return [s for s in self.search_specs(roles) if s.sensitive and not s.core]

    def get_search_fields(self, request):
        return [lists.field_path(self.entity, s) for s in self.search_specs(self.get_roles(request))
                if not s.sensitive]

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = (search_term or "").strip()
        exact = self.exact_search_specs(self.get_roles(request))
        if not term or not exact:
            return found, may_have_duplicates
        q = Q()
        for spec in exact:
            q |= Q(**sensitive_values.exact_lookup(lists.field_path(self.entity, spec), spec.fieldtype, term))
        matched = queryset.filter(q)
        if matched.exists():  # a search by a full sensitive value is noted like an ID-number search
            from secure import audit

            kind = exact[0].fieldtype
            audit.searched(kind if kind in audit.SENSITIVE_LABELS else exact[0].label, term)
        return (found | matched if self.get_search_fields(request) else matched), may_have_duplicates

    @property
    def search_help_text(self) -> str:
        request = _request_var.get()
        roles = self.get_roles(request) if request is not None else ()
        labels = [s.label for s in self.search_specs(roles) if not s.sensitive]
        exact = [s.label for s in self.exact_search_specs(roles)]
        parts = ["、".join(labels)] if labels else []
        if exact:
            parts.append("、".join(exact) + "（加密字段，须输入完整值）")
        return "搜索：" + "；".join(parts) if parts else ""

    def get_ordering(self, request):
        spec = self.meta.list_spec(self.get_roles(request))
        out = []
        for item in spec.ordering:
            desc, code = item.startswith("-"), item.lstrip("-")
            if code in self.meta.fields:
                out.append(("-" if desc else "") + lists.field_path(self.entity, self.meta.fields[code]))
        return out + ["-pk"]

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        per_page = self.meta.list_spec(self.get_roles(request)).page_size
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def changelist_view(self, request, extra_context=None):
        _request_var.set(request)
        if request.method == "POST" and not all(
                v.isdigit() for v in request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)):
            # the action buttons of a detail page post here too: a forged id is refused, not a 500
            messages.error(request, "所选记录无效，未执行任何操作。")
            return HttpResponseRedirect(request.get_full_path())
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        if cl is not None:
            for spec in cl.filter_specs:
                for error in getattr(spec, "errors", []):
                    messages.warning(request, error)
        return response

    # -- forms -----------------------------------------------------------------------
    def get_fieldsets(self, request, obj=None):
        scope = self.get_scope_value(request, obj)
        sections = meta_forms.visible_sections(self.meta, scope, "edit", self.get_roles(request))
        return [(title, {"fields": codes}) for title, codes in sections]

    def get_form(self, request, obj=None, change=False, **kwargs):
        scope = self.get_scope_value(request, obj)
        base = meta_forms.build_form_class(self.form, self.entity, scope, "edit", self.get_roles(request))
        kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        form_class = super().get_form(request, obj, change, form=base, **kwargs)
        entity = self.entity

        class ScopedForm(form_class):
            _mask_sensitive = not self.can_see_sensitive(request)

            def __init__(self, *args, **kw):
                super().__init__(*args, **kw)
                meta_forms.apply_core_overrides(self, entity, scope)

        ScopedForm.__name__ = form_class.__name__
        return ScopedForm

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # An add page opened for one scope (?scope=labor) shows that scope's fields, so the
        # scope field (e.g. 案件类型) starts with that value too.
        if self.config.scope_field and request.GET.get(SCOPE_PARAM):
            initial.setdefault(self.config.scope_field, request.GET[SCOPE_PARAM])
        return initial

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["lowcode_scope_field"] = self.config.scope_field
        context["lowcode_entity"] = self.entity
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- detail / review screens (read-only, layout from metadata) --------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/detail/", self.admin_site.admin_view(self.detail_view),
                 name="%s_%s_detail" % info),
        ] + super().get_urls()

    def detail_sections(self, request, obj, screen: str = "detail") -> list[tuple[str, list[tuple[str, Any]]]]:
        _request_var.set(request)
        return display_sections(self.entity, obj, self.get_scope_value(request, obj), screen,
                                self.get_roles(request),
                                lambda spec, o, value: self.format_value(request, spec, o, value))

    def detail_view(self, request, object_id):
        screen = request.GET.get("screen", "detail")
        if screen not in self.detail_screens:
            raise Http404("未知界面")
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404("记录不存在或无权查看")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        blocks = self.detail_extra_blocks(request, obj)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"{self.opts.verbose_name}详情：{obj}",
            "sections": self.detail_sections(request, obj, screen),
            "extra_blocks": blocks,
            # an empty table is one line at the bottom, not a card of "无" between the filled ones
            "empty_block_titles": [title for title, _headers, rows in blocks if not rows],
            "has_change_permission": self.has_change_permission(request, obj),
        }
        return TemplateResponse(request, "lowcode/detail.html", context)

    def detail_extra_blocks(self, request, obj) -> list[tuple[str, list[str], list[list[Any]]]]:
        """Domain admins add tables (title, headers, rows) below the fields, e.g. parties."""
        return []
