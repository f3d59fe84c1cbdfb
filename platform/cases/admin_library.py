"""案件全量库: bulk actions on the case list — 打标 (tags from the case_tag dictionary) and
档案归档 (same-type cases into a case file) — and the case files themselves, scoped by region."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.scope import InternalScreenMixin, internal_staff, scope_queryset
from cases import actions
from cases.actions import ActionRefused
from cases.admin_blocks import label
from cases.models import Case, CaseFile
from lowcode.choices import dictionary_choices
from lowcode.modeladmin import ScopedAdminMixin
from lowcode.registry import format_when, get_dictionary

MAX_SELECTED = 2000
PREVIEW = 50


def _tag_choices():
    return dictionary_choices("case_tag", blank=None)


class TagForm(forms.Form):
    add = forms.MultipleChoiceField(label="添加标签", required=False, widget=forms.CheckboxSelectMultiple)
    remove = forms.MultipleChoiceField(label="移除标签", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add"].choices = self.fields["remove"].choices = _tag_choices()

    def clean(self):
        data = super().clean()
        add, remove = data.get("add") or [], data.get("remove") or []
        if not add and not remove:
            raise ValidationError("请选择要添加或移除的标签")
        both = set(add) & set(remove)
        if both:
            names = dict(_tag_choices())
            raise ValidationError(f"同一标签不能既添加又移除：{'、'.join(names.get(t, t) for t in both)}")
        return data


class ArchiveForm(forms.Form):
    case_file = forms.ModelChoiceField(label="归入已有档案", required=False, queryset=CaseFile.objects.none(),
                                       empty_label="（新建档案）")
    name = forms.CharField(label="新档案名称", required=False, max_length=200)
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, files_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if files_queryset is not None:
            self.fields["case_file"].queryset = files_queryset
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field.widget, forms.Select)
                                          else "form-control")

    def clean(self):
        data = super().clean()
        if not data.get("case_file") and not (data.get("name") or "").strip():
            raise ValidationError("请填写新档案名称，或选择一个已有档案")
        return data


def _intermediate(model_admin, request, queryset, action: str, title: str, form, template: str):
    selected = list(queryset.order_by("-registered_at").values("pk", "exchange_id", "title", "case_type",
                                                               "tags")[:PREVIEW])
    tags = get_dictionary("case_tag")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "action": action,
        "form": form,
        "selected_pks": list(queryset.values_list("pk", flat=True)),
        "preview": [{**c, "type": label("case_type", c["case_type"]),
                     "tag_labels": "、".join(tags[t].label if t in tags else t for t in c["tags"] or [])}
                    for c in selected],
        "count": queryset.count(),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "changelist_url": reverse("admin:cases_case_changelist"),
    }
    return TemplateResponse(request, template, context)


def _selected(queryset) -> list[Case]:
    """The selected cases as bare rows (the actions re-read them under the user's scope)."""
    return [Case(pk=pk) for pk in queryset.values_list("pk", flat=True)]


def _too_many(request, queryset) -> bool:
    if queryset.count() > MAX_SELECTED:
        messages.error(request, f"一次最多处理 {MAX_SELECTED} 件案件，请缩小筛选范围")
        return True
    return False


@admin.action(description="打标（添加/移除案件标签）", permissions=["change"])
def tag_selected(model_admin, request, queryset):
    if _too_many(request, queryset):
        return None
    form = TagForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        try:
            changed = actions.tag_cases(_selected(queryset), request.user, form.cleaned_data["add"],
                                        form.cleaned_data["remove"])
        except (ValidationError, ActionRefused) as e:
            messages.error(request, "；".join(getattr(e, "messages", [str(e)])))
        else:
            messages.success(request, f"已更新 {changed} 件案件的标签")
        return None
    return _intermediate(model_admin, request, queryset, "tag_selected", "打标", form, "cases/action_tag.html")


@admin.action(description="档案归档（同类型案件归入档案）", permissions=["change"])
def archive_selected(model_admin, request, queryset):
    if _too_many(request, queryset):
        return None
    types = set(queryset.values_list("case_type", flat=True).distinct())
    files = scope_queryset(request.user, CaseFile.objects.all())
    if len(types) == 1:
        files = files.filter(case_type__in=[*types, ""])
    form = ArchiveForm(request.POST if "apply" in request.POST else None, files_queryset=files)
    if "apply" in request.POST and form.is_valid():
        data = form.cleaned_data
        try:
            case_file = actions.archive_cases(_selected(queryset), request.user, name=data["name"],
                                              note=data["note"], case_file=data["case_file"])
        except ActionRefused as e:
            messages.error(request, str(e))
        except ValidationError as e:
            messages.error(request, "；".join(e.messages))
        else:
            messages.success(request, format_html('已将 {} 件案件归入档案 <a href="{}">{}</a>', queryset.count(),
                                                  reverse("admin:cases_casefile_change", args=[case_file.pk]),
                                                  case_file.name))
        return None
    return _intermediate(model_admin, request, queryset, "archive_selected", "档案归档", form,
                         "cases/action_archive.html")


class CaseFileAdmin(InternalScreenMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "type_label", "region", "case_count", "created_by", "created_at"]
    list_select_related = ["region", "created_by"]
    search_fields = ["name"]
    fields = ["name", "type_label", "region", "note", "case_list", "created_by", "created_at"]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return internal_staff(request.user) and (request.user.has_perm("cases.view_case")
                                                 or super().has_view_permission(request, obj))

    def has_add_permission(self, request):
        return False  # made by the 档案归档 action on the case list

    def get_readonly_fields(self, request, obj=None):
        editable = {"name", "note"} if self.has_change_permission(request, obj) else set()
        return [f for f in self.fields if f not in editable]

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(n_cases=Count("cases"))
        return scope_queryset(request.user, qs)

    @admin.display(description="案件类型", ordering="case_type")
    def type_label(self, obj):
        return label("case_type", obj.case_type)

    @admin.display(description="案件数", ordering="n_cases")
    def case_count(self, obj):
        return obj.n_cases

    @admin.display(description="档案中的案件")
    def case_list(self, obj):
        from lowcode.modeladmin import current_request

        request = current_request()
        cases = obj.cases.order_by("-registered_at")
        cases = scope_queryset(request.user, cases) if request is not None else cases.none()
        rows = ((reverse("admin:cases_case_detail", args=[c.pk]), c.exchange_id, c.title,
                 label("case_status", c.status), format_when(c.registered_at)) for c in cases)
        html = format_html_join("", '<li><a href="{}">{} {}</a>（{}，登记于 {}）</li>', rows)
        return format_html("<ul class='mb-0'>{}</ul>", html) if html else "无"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        from lowcode.modeladmin import set_current_request

        set_current_request(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

