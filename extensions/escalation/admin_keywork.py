"""Screens of 重点人 走访 (an inline on the key person) and 待核查线索 (list per person and per region,
filters; the change page assigns, records the verification result and closes — keywork actions)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from accounts.scope import scope_q
from extensions.escalation import keywork
from extensions.escalation.models import KeyPersonVisit, VerificationTask
from lowcode.choices import dictionary_choices
from lowcode.modeladmin import ScopedAdminMixin


class KeyPersonVisitForm(forms.ModelForm):
    way = forms.ChoiceField(label="走访方式")

    class Meta:
        model = KeyPersonVisit
        fields = ["visited_at", "way", "content"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["way"].choices = dictionary_choices("visit_way")


class KeyPersonVisitInline(admin.TabularInline):
    """走访 beside the 稳控化解日志: the same rights as the key person itself."""

    model = KeyPersonVisit
    form = KeyPersonVisitForm
    extra = 1
    fields = ["visited_at", "way", "content"]

    def _handles(self, request):
        from extensions.escalation.admin import KeyPersonAdmin

        return KeyPersonAdmin._handles(request)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("cases.view_case")

    def has_add_permission(self, request, obj=None):
        return self._handles(request)

    def has_change_permission(self, request, obj=None):
        return self._handles(request)

    def has_delete_permission(self, request, obj=None):
        return self._handles(request)


class TaskForm(forms.ModelForm):
    OPS = [("assign", "指派核查人"), ("verify", "填写核查结果"), ("close", "关闭")]
    op = forms.ChoiceField(label="操作", choices=OPS)

    class Meta:
        model = VerificationTask
        fields = ["assignee", "result"]

    def clean(self):
        data = super().clean()
        op = data.get("op")
        if op == "assign" and not data.get("assignee"):
            raise ValidationError({"assignee": "请选择核查人"})
        if op == "verify" and not (data.get("result") or "").strip():
            raise ValidationError({"result": "请填写核查结果"})
        return data


@admin.register(VerificationTask)
class VerificationTaskAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = TaskForm
    list_display = ["person_name", "reason", "clue_title", "region", "state", "assignee", "verified_at", "created_at"]
    list_filter = ["state", "reason"]
    search_fields = ["person_name", "clue__title"]
    search_help_text = "搜索：涉及人员、线索标题"
    list_select_related = ["clue", "region", "assignee"]
    readonly_fields = ["person_name", "reason", "clue_title", "clue_text", "region", "state", "verified_by",
                       "verified_at", "closed_at", "created_at"]
    fields = readonly_fields[:4] + ["op", "assignee", "result"] + readonly_fields[4:]

    def has_module_permission(self, request):
        return request.user.has_perm("clues.view_clue") and request.user.has_perm("cases.view_case")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("clues.change_clue") and (obj is None or obj.state != "closed")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        q = scope_q(request.user, "region_path", VerificationTask)
        return qs if q is None else qs.filter(q)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            from accounts.models import User

            q = scope_q(request.user, "region__path")
            users = User.objects.filter(is_active=True, region__isnull=False)
            kwargs["queryset"] = users if q is None else users.filter(q)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="线索")
    def clue_title(self, obj):
        return obj.clue.title

    @admin.display(description="线索内容")
    def clue_text(self, obj):
        return obj.clue.text

    def save_model(self, request, obj, form, change):
        op = form.cleaned_data.get("op")
        try:
            if op == "assign":
                keywork.assign(obj, request.user, form.cleaned_data.get("assignee"))
            elif op == "verify":
                keywork.verify(obj, request.user, form.cleaned_data.get("result"))
            elif op == "close":
                keywork.close(obj, request.user)
        except (keywork.Refused, ValidationError) as refused:
            messages.error(request, "；".join(getattr(refused, "messages", [str(refused)])))

    def log_change(self, request, obj, message):
        return None  # the state change is the record
