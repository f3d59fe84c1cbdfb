"""PC screens (Django admin frame): 典型案例库 (filters, detail, print, propose, review), 案例检索,
案例分析, 重点事, 基层减负问答 (with Excel import/export). Every write is a library.actions call;
every read goes through library.actions.visible_typicals / accounts.scope."""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.scope import scope_queryset
from cases import actions as case_actions
from cases import states
from cases.actions import ActionRefused
from cases.models import Case
from library import actions, analysis, anonymise, qa_excel, search
from library.forms import (CloseKeyMatterForm, DecideForm, KeyMatterForm, ProposeForm, QAImportForm, SearchForm,
                           bootstrap)
from library.models import KeyMatter, QACategory, QAEntry, TypicalCase
from lowcode.modeladmin import ScopedAdminMixin
from lowcode.registry import format_when, get_dictionary


def label(dictionary: str, code: str) -> str:
    items = get_dictionary(dictionary)
    return items[code].label if code in items else (code or "—")


def _errors_into(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errs in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, error.messages)


class DictFilter(admin.SimpleListFilter):
    dictionary = ""
    field = ""

    def lookups(self, request, model_admin):
        return [(c, e.label) for c, e in get_dictionary(self.dictionary).items()]

    def queryset(self, request, queryset):
        if self.value() and self.value() in get_dictionary(self.dictionary):
            return queryset.filter(**{self.field: self.value()})
        return queryset


class StatusFilter(DictFilter):
    title, parameter_name, dictionary, field = "状态", "status", "typical_status", "status"

    def lookups(self, request, model_admin):
        return [("mine", "待我审核")] + super().lookups(request, model_admin)

    def queryset(self, request, queryset):
        if self.value() == "mine":
            try:
                pending = queryset.filter(status__in=actions.workflow().review_states())
            except ActionRefused:  # no review workflow configured: nothing waits
                return queryset.none()
            return pending.filter(pk__in=[tc.pk for tc in pending[:500] if actions.may_decide(request.user, tc)
                                          and actions.in_scope(request.user, tc)])
        return super().queryset(request, queryset)


class LevelFilter(DictFilter):
    title, parameter_name, dictionary, field = "典型级别", "typical_level", "typical_level", "typical_level"


class TypeFilter(DictFilter):
    title, parameter_name, dictionary, field = "纠纷类型", "case_type", "case_type", "case_type"

    def queryset(self, request, queryset):
        from django.db.models import Q

        v = self.value()
        if v and v in get_dictionary(self.dictionary):
            return queryset.filter(Q(case_type=v) | Q(case_type__startswith=v + "."))
        return queryset


class MediationTypeFilter(DictFilter):
    title, parameter_name, dictionary, field = "调解类型", "mediation_type", "mediation_type", "mediation_type"


class TagFilter(DictFilter):
    title, parameter_name, dictionary, field = "标签", "tag", "case_tag", "tags"

    def queryset(self, request, queryset):
        v = self.value()
        if v and v in get_dictionary(self.dictionary):
            return queryset.filter(pk__in=[pk for pk, tags in queryset.values_list("pk", "tags") if v in (tags or [])])
        return queryset


class LibraryAccess:
    """View for every library user; the writes go through custom views and library.actions."""

    def has_module_permission(self, request):
        return actions.may_use_library(request.user)

    def has_view_permission(self, request, obj=None):
        return actions.may_use_library(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TypicalCase)
class TypicalCaseAdmin(LibraryAccess, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title_link", "level_label", "type_label", "mediation_label", "status_label", "region",
                    "proposed_by", "approved_at"]
    list_display_links = None
    list_filter = [StatusFilter, LevelFilter, TypeFilter, MediationTypeFilter, TagFilter]
    search_fields = ["title", "writeup", "method", "legal_basis"]
    search_help_text = "搜索：标题、案例材料、调解方法、法律依据（按相关度检索请用“案例检索”）"
    list_select_related = ["region", "proposed_by"]
    ordering = ["-approved_at", "-proposed_at"]
    change_list_template = "library/typical_changelist.html"

    def get_queryset(self, request):
        return actions.visible_typicals(request.user)

    @admin.display(description="案例标题", ordering="title")
    def title_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:library_typicalcase_detail", args=[obj.pk]), obj.title)

    @admin.display(description="典型级别", ordering="typical_level")
    def level_label(self, obj):
        return label("typical_level", obj.typical_level) if obj.typical_level else "—"

    @admin.display(description="纠纷类型", ordering="case_type")
    def type_label(self, obj):
        return label("case_type", obj.case_type)

    @admin.display(description="调解类型")
    def mediation_label(self, obj):
        return label("mediation_type", obj.mediation_type)

    @admin.display(description="状态", ordering="status")
    def status_label(self, obj):
        return label("typical_status", obj.status)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("propose/<int:case_id>/", wrap(self.propose_view), name="library_typicalcase_propose"),
            path("search/", wrap(self.search_view), name="library_typicalcase_search"),
            path("analysis/", wrap(self.analysis_view), name="library_typicalcase_analysis"),
            path("<int:pk>/detail/", wrap(self.detail_view), name="library_typicalcase_detail"),
            path("<int:pk>/print/", wrap(self.print_view), name="library_typicalcase_print"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = int(object_id)
        except (TypeError, ValueError):
            raise Http404("记录不存在或无权访问") from None
        get_object_or_404(self.get_queryset(request), pk=pk)
        return HttpResponseRedirect(reverse("admin:library_typicalcase_detail", args=[pk]))

    def _context(self, request, title: str, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def _require_library(self, request):
        if not actions.may_use_library(request.user):
            raise PermissionDenied("您没有使用案例库的权限")

    # -- 推荐 ------------------------------------------------------------------------------------
    def propose_view(self, request, case_id: int):
        self._require_library(request)
        case = get_object_or_404(scope_queryset(request.user, Case.objects.select_related("region")), pk=case_id)
        refusal = ""
        if not request.user.has_perm("cases.change_case"):
            refusal = "您没有推荐典型案例的权限"
        elif not states.is_closed(case):
            refusal = f"案件尚未办结（{case_actions.state_label(case.status)}），办结后才能推荐为典型案例"
        elif TypicalCase.objects.filter(case=case).exclude(status="rejected").exists():
            refusal = "该案件已被推荐为典型案例（审核中或已入库）"
        form = None
        if not refusal:
            form = bootstrap(ProposeForm(request.POST if request.method == "POST" else None,
                                         initial=anonymise.draft(case)))
            if request.method == "POST" and form.is_valid():
                try:
                    tc = actions.propose(case, request.user, **form.cleaned_data)
                except ActionRefused as refused:
                    form.add_error(None, str(refused))
                except ValidationError as error:
                    _errors_into(form, error)
                else:
                    messages.success(request, "已推荐为典型案例，等待上级审核")
                    return HttpResponseRedirect(reverse("admin:library_typicalcase_detail", args=[tc.pk]))
        elif request.method == "POST":
            messages.error(request, refusal)
        return TemplateResponse(request, "library/form.html", self._context(
            request, "推荐为典型案例", case=case, form=form, refusal=refusal, submit="提交推荐",
            case_url=reverse("admin:cases_case_detail", args=[case.pk])))

    # -- 详情、审核、修改 ---------------------------------------------------------------------------
    def detail_view(self, request, pk: int):
        self._require_library(request)
        tc = get_object_or_404(self.get_queryset(request), pk=pk)
        user = request.user
        try:
            available = actions.available_actions(tc, user) if tc.status not in ("approved", "rejected") else []
        except ActionRefused as refused:  # no review workflow configured
            available = []
            messages.error(request, str(refused))
        decide_form = bootstrap(DecideForm())
        edit_form = None
        may_edit = (tc.status not in ("approved", "rejected") and actions.in_scope(user, tc)
                    and user.has_perm("cases.change_case") and not any(t.decision for t in available))
        if may_edit:
            edit_form = bootstrap(ProposeForm(initial={f: getattr(tc, f) for f in ProposeForm.base_fields}))
        if request.method == "POST":
            try:
                if request.POST.get("do") == "edit" and may_edit:
                    edit_form = bootstrap(ProposeForm(request.POST))
                    if edit_form.is_valid():
                        actions.edit(tc, user, **edit_form.cleaned_data)
                        messages.success(request, "已保存")
                        return HttpResponseRedirect(request.path)
                else:
                    decide_form = bootstrap(DecideForm(request.POST))
                    if decide_form.is_valid():
                        data = decide_form.cleaned_data
                        actions.decide(tc, data["action"], user, opinion=data["opinion"],
                                       typical_level=data["typical_level"])
                        messages.success(request, f"已{data['action']}")
                        return HttpResponseRedirect(request.path)
                    messages.error(request, "提交的内容有误，请检查")
            except ActionRefused as refused:
                messages.error(request, str(refused))
            except ValidationError as error:
                messages.error(request, "；".join(error.messages))
                if edit_form is not None and request.POST.get("do") == "edit":
                    _errors_into(edit_form, error)
        visible_case = case_actions.in_scope(user, tc.case)
        return TemplateResponse(request, "library/detail.html", self._context(
            request, tc.title, tc=tc, rows=self._rows(tc), available=available, decide_form=decide_form,
            edit_form=edit_form, case_url=reverse("admin:cases_case_detail", args=[tc.case_id]) if visible_case else "",
            print_url=reverse("admin:library_typicalcase_print", args=[tc.pk]),
            needs_level=any(t.decision == "approve" for t in available)))

    def _rows(self, tc):
        return [("典型级别", label("typical_level", tc.typical_level) if tc.typical_level else "—"),
                ("状态", label("typical_status", tc.status)),
                ("纠纷类型", label("case_type", tc.case_type)),
                ("调解类型", label("mediation_type", tc.mediation_type)),
                ("标签", "、".join(label("case_tag", t) for t in tc.tags) or "—"),
                ("调解方法", tc.method or "—"), ("法律依据", tc.legal_basis or "—"),
                ("推荐单位", tc.region.name), ("推荐人", str(tc.proposed_by or "—")),
                ("推荐时间", format_when(tc.proposed_at)), ("推荐理由", tc.reason),
                ("审核人", str(tc.decided_by or "—")), ("审核意见", tc.opinion or "—"),
                ("入库时间", format_when(tc.approved_at) if tc.approved_at else "—")]

    def print_view(self, request, pk: int):
        self._require_library(request)
        tc = get_object_or_404(self.get_queryset(request), pk=pk)
        return TemplateResponse(request, "library/print.html", {"tc": tc, "rows": self._rows(tc)[:7],
                                                                "printed_at": format_when(timezone.now())})

    # -- 案例检索 ---------------------------------------------------------------------------------
    def search_view(self, request):
        self._require_library(request)
        form = bootstrap(SearchForm(request.GET or None))
        hits, searched = [], False
        if form.is_valid() and form.cleaned_data["q"].strip():
            searched = True
            d = form.cleaned_data
            hits = search.search(d["q"], request.user, kinds=form.kinds(), case_type=d["case_type"],
                                 mediation_type=d["mediation_type"], tag=d["tag"], limit=30)
        rows = [self._hit_row(h) for h in hits]
        return TemplateResponse(request, "library/search.html", self._context(
            request, "调解案例检索", form=form, rows=rows, searched=searched))

    def _hit_row(self, hit):
        doc = hit.doc
        url = (reverse("admin:library_typicalcase_detail", args=[doc.ref_id]) if doc.kind == "typical"
               else reverse("admin:cases_case_detail", args=[doc.ref_id]))
        return {"url": url, "kind": doc.get_kind_display(), "title": search.highlight(doc.title, hit.matched),
                "summary": search.highlight(doc.summary[:200], hit.matched), "type": label("case_type", doc.case_type),
                "mediation": label("mediation_type", doc.mediation_type) if doc.mediation_type else "—",
                "score": f"{hit.score:.2f}"}

    # -- 案例分析 ---------------------------------------------------------------------------------
    def analysis_view(self, request):
        self._require_library(request)
        qs = self.get_queryset(request).filter(status="approved")
        tables = analysis.tables(qs)
        if request.GET.get("export") == "xlsx":
            response = HttpResponse(analysis.workbook(tables), content_type=(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
            response["Content-Disposition"] = "attachment; filename*=UTF-8''typical-analysis.xlsx"
            return response
        return TemplateResponse(request, "library/analysis.html", self._context(
            request, "典型案例分析", tables=tables, charts=analysis.chart_data(tables)))


# --- 重点事 ------------------------------------------------------------------------------------------
class KeyMatterStateFilter(admin.SimpleListFilter):
    title, parameter_name = "状态", "state"

    def lookups(self, request, model_admin):
        return KeyMatter.STATES

    def queryset(self, request, queryset):
        return queryset.filter(state=self.value()) if self.value() in dict(KeyMatter.STATES) else queryset


@admin.register(KeyMatter)
class KeyMatterAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["case_link", "level_label", "leader", "state", "visits", "marked_by", "marked_at"]
    list_display_links = None
    list_filter = [KeyMatterStateFilter]
    search_fields = ["case__exchange_id", "case__title", "leader"]
    search_help_text = "搜索：案件编号、案件标题、包案领导"
    list_select_related = ["case", "marked_by"]
    change_form_template = "library/keymatter_change.html"

    def has_module_permission(self, request):
        return request.user.has_perm("cases.view_case")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("cases.view_case")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request))

    @admin.display(description="案件", ordering="case__exchange_id")
    def case_link(self, obj):
        return format_html('<a href="{}">{} {}</a>', reverse("admin:library_keymatter_change", args=[obj.pk]),
                           obj.case.exchange_id, obj.case.title)

    @admin.display(description="重点级别", ordering="level")
    def level_label(self, obj):
        return label("key_matter_level", obj.level)

    @admin.display(description="走访/回访次数")
    def visits(self, obj):
        return obj.case.visits.count()

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("mark/<int:case_id>/", wrap(self.mark_view), name="library_keymatter_mark")] + super().get_urls()

    def mark_view(self, request, case_id: int):
        if not request.user.has_perm("cases.view_case"):
            raise PermissionDenied("无权访问")
        case = get_object_or_404(scope_queryset(request.user, Case.objects.all()), pk=case_id)
        refusal = "" if request.user.has_perm("cases.change_case") else "您没有办理案件的权限"
        existing = KeyMatter.objects.filter(case=case, state="open").first()
        if existing is not None:
            refusal = "该案件已是管控中的重点事"
        form = None
        if not refusal:
            form = bootstrap(KeyMatterForm(request.POST if request.method == "POST" else None))
            if request.method == "POST" and form.is_valid():
                try:
                    km = actions.mark_key_matter(case, request.user, **form.cleaned_data)
                except ActionRefused as refused:
                    form.add_error(None, str(refused))
                except ValidationError as error:
                    _errors_into(form, error)
                else:
                    messages.success(request, "已列为重点事")
                    return HttpResponseRedirect(reverse("admin:library_keymatter_change", args=[km.pk]))
        elif request.method == "POST":
            messages.error(request, refusal)
        return TemplateResponse(request, "library/form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "title": "列为重点事", "case": case,
            "form": form, "refusal": refusal, "submit": "列为重点事",
            "case_url": reverse("admin:cases_case_detail", args=[case.pk])})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            km = self.get_queryset(request).select_related("case").get(pk=int(object_id))
        except (ValueError, TypeError, KeyMatter.DoesNotExist):
            raise Http404("记录不存在或无权访问") from None
        form = bootstrap(CloseKeyMatterForm(request.POST if request.method == "POST" else None))
        if request.method == "POST":
            if form.is_valid():
                try:
                    actions.close_key_matter(km, request.user, note=form.cleaned_data["close_note"])
                except ActionRefused as refused:
                    messages.error(request, str(refused))
                except ValidationError as error:
                    messages.error(request, "；".join(error.messages))
                else:
                    messages.success(request, "重点事已销号")
                    return HttpResponseRedirect(request.path)
            else:
                messages.error(request, "请填写销号说明")
        may_change = request.user.has_perm("cases.change_case") and km.state == "open"
        visits = [[format_when(v.visited_at), label("visit_way", v.way), label("satisfaction", v.satisfaction),
                   v.notes, str(v.visitor or "—")] for v in km.case.visits.select_related("visitor")]
        return TemplateResponse(request, "library/keymatter_change.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "title": str(km), "km": km,
            "level": label("key_matter_level", km.level), "form": form if may_change else None, "visits": visits,
            "case_url": reverse("admin:cases_case_detail", args=[km.case_id]),
            "visit_url": (reverse("admin:cases_case_handle", args=[km.case_id]) + "?form=visit")
            if may_change and case_actions.may_visit(km.case) else ""})


# --- 基层减负问答 -------------------------------------------------------------------------------------
@admin.register(QACategory)
class QACategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "sort"]
    search_fields = ["name"]


@admin.register(QAEntry)
class QAEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "category", "synonyms", "enabled", "updated_at"]
    list_filter = ["category", "enabled"]
    search_fields = ["question", "answer", "synonyms"]
    search_help_text = "搜索：问题、答案、同义词"
    change_list_template = "library/qa_changelist.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("export/", wrap(self.export_view), name="library_qaentry_export"),
                path("import/", wrap(self.import_view), name="library_qaentry_import")] + super().get_urls()

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied("无权导出")
        entries = QAEntry.objects.select_related("category").order_by("category__sort", "category_id", "pk")
        response = HttpResponse(qa_excel.export_workbook(entries), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        response["Content-Disposition"] = "attachment; filename*=UTF-8''qa.xlsx"
        return response

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied("无权导入")
        form = bootstrap(QAImportForm(request.POST or None, request.FILES or None))
        if request.method == "POST" and form.is_valid():
            try:
                created, updated = qa_excel.import_rows(qa_excel.read_rows(form.cleaned_data["file"]))
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, f"导入完成：新增 {created} 条，更新 {updated} 条")
                return HttpResponseRedirect(reverse("admin:library_qaentry_changelist"))
        return TemplateResponse(request, "library/form.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "title": "导入基层减负问答", "form": form,
            "multipart": True, "submit": "导入", "note": f"表头：{'、'.join(qa_excel.HEADERS)}；同一分类下问题相同的条目会被更新。"})
