"""Admin screens for the metadata itself (业务配置): every record versioned (who, when,
old → new, revert), site changes shown against the shipped defaults."""
from __future__ import annotations

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from lowcode import registry
from lowcode.models import Dictionary, DictItem, FieldDef, FormLayout, ListView, Workflow

logger = logging.getLogger(__name__)


class MetaRecordAdmin(SimpleHistoryAdmin):
    """Every metadata kind's admin (lowcode.metakinds): whether a record is shipped, edited or the
    site's own, its difference to the shipped values, and 「恢复出厂值」 for the selected records."""

    readonly_fields = ["origin_state", "shipped_diff"]
    save_on_top = True

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            actions["restore_shipped"] = self.get_action(MetaRecordAdmin.restore_shipped)
        return actions

    @admin.action(description="恢复出厂值（所选的已本地修改记录）")
    def restore_shipped(self, request, queryset):
        from django.core.exceptions import ValidationError

        from lowcode.serialization import restore_shipped

        restored, refused = 0, []
        for obj in queryset:
            try:
                with transaction.atomic():
                    restored += restore_shipped(obj)
            except ValidationError as exc:
                refused.append(f"{obj}：{'；'.join(exc.messages)}")
        messages.success(request, f"已恢复出厂值 {restored} 条" + ("" if restored else "（所选记录没有本地修改）"))
        for message in refused:
            messages.error(request, f"未恢复 {message}")

    @admin.display(description="状态")
    def origin_state(self, obj):
        if obj is None or obj.pk is None:
            return "本地新增"
        if obj.origin != "shipped":
            return "本地新增"
        return "出厂（已本地修改）" if obj.is_customised else "出厂（未修改）"

    @admin.display(description="与出厂值的差异")
    def shipped_diff(self, obj):
        if obj is None or obj.pk is None or obj.origin != "shipped" or not obj.shipped:
            return "—"
        current = obj.meta_values()
        rows = [(k, obj.shipped.get(k), current.get(k)) for k in obj.META_FIELDS
                if obj.shipped.get(k) != current.get(k)]
        if not rows:
            return "无"
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li><b>{}</b>：出厂 {} → 本地 {}</li>",
            ((obj._meta.get_field(k).verbose_name, old, new) for k, old, new in rows)))


class PreviewChangeFormMixin:
    """「预览（不保存）」 on a metadata change form: the edited values are validated and applied to
    an unsaved instance, ``preview(request, instance)`` tells what they would do (its result is
    ``preview`` in the template), and the form comes back with what was typed — nothing saved.
    ``preview_extra_context(request)`` adds help shown with the form. 「保存」 works as usual.
    Templates add a submit button named ``_preview``."""

    preview_invalid_message = "请先改正下面的错误再预览"

    def preview(self, request, instance):
        raise NotImplementedError

    def preview_extra_context(self, request) -> dict:
        return {}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**self.preview_extra_context(request), **(extra_context or {})}
        if request.method == "POST" and "_preview" in request.POST:
            return self._preview_view(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _preview_view(self, request, object_id, form_url, extra_context):
        obj = self.get_object(request, object_id) if object_id else None
        if object_id and obj is None:
            raise Http404("记录不存在")
        if not (self.has_change_permission(request, obj) if obj else self.has_add_permission(request)):
            raise PermissionDenied
        form = self.get_form(request, obj, change=obj is not None)(request.POST, request.FILES, instance=obj)
        if form.is_valid():
            try:
                extra_context["preview"] = self.preview(request, form.instance)
            except Exception as exc:  # noqa: BLE001 — a preview must never turn into a server error
                logger.exception("preview failed")
                messages.error(request, f"预览失败：{exc}")
        else:
            messages.error(request, self.preview_invalid_message)
        extra_context["preview_form"] = form
        request.method = "GET"  # render the change form; nothing is saved
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        finally:
            request.method = "POST"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        bound = context.get("preview_form")
        if bound is not None:  # what was typed, with its errors — not the stored values
            context["adminform"].form = bound
            context["errors"] = admin.helpers.AdminErrorList(bound, [])
        return super().render_change_form(request, context, add, change, form_url, obj)


class CustomisedFilter(admin.SimpleListFilter):
    title = "本地修改"
    parameter_name = "customised"

    def lookups(self, request, model_admin):
        return [("1", "已本地修改"), ("site", "本地新增")]

    def queryset(self, request, queryset):
        if self.value() == "site":
            return queryset.filter(origin="site")
        if self.value() == "1":
            ids = [o.pk for o in queryset.filter(origin="shipped") if o.is_customised]
            return queryset.filter(pk__in=ids)
        return queryset


class DictItemInline(admin.TabularInline):
    model = DictItem
    fk_name = "dictionary"
    extra = 1
    fields = ["code", "label", "parent", "sort", "color", "is_active"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = DictItem.objects.filter(dictionary_id=object_id) if object_id else DictItem.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Dictionary)
class DictionaryAdmin(MetaRecordAdmin):
    list_display = ["name", "is_tree", "item_count", "origin_state"]  # the code is on the form, not beside the name
    search_fields = ["code", "name"]
    list_filter = [CustomisedFilter]
    inlines = [DictItemInline]

    def get_inlines(self, request, obj):
        # items another registry provides are edited there (the description says where)
        return [] if obj is not None and registry.dictionary_provider(obj.code) else self.inlines

    @admin.display(description="字典项数")
    def item_count(self, obj):
        if registry.dictionary_provider(obj.code):
            return len(registry.get_dictionary(obj.code))
        return obj.items.count()


@admin.register(DictItem)
class DictItemAdmin(MetaRecordAdmin):
    list_display = ["label", "dictionary", "parent", "sort", "is_active", "origin_state"]
    list_filter = ["dictionary", "is_active", CustomisedFilter]
    search_fields = ["code", "label"]
    list_select_related = ["dictionary", "parent"]
    autocomplete_fields = ["parent"]


def scope_choices() -> list:
    """The scope dictionaries of the registered entities (e.g. case types), as option groups."""
    groups = []
    for key, config in registry.entities().items():
        if not config.scope_dictionary:
            continue
        items = registry.get_meta(key).dictionaries.get(config.scope_dictionary, {})
        label = f"{config.model._meta.verbose_name}（{key}）"
        groups.append((label, [(e.code, e.path_label) for e in items.values()]))
    return groups


def entity_choices() -> list[tuple[str, str]]:
    return [(key, f"{c.model._meta.verbose_name}（{key}）") for key, c in registry.entities().items()]


class EntityChoiceForm(forms.ModelForm):
    """Metadata forms pick the business object from the registered entities, not free text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "entity" in self.fields:
            field = self.fields["entity"]
            self.fields["entity"] = forms.ChoiceField(
                label=field.label, choices=[("", "---------")] + entity_choices(),
                required=field.required, disabled=field.disabled, help_text=field.help_text)


class FieldDefForm(EntityChoiceForm):
    scope = forms.MultipleChoiceField(
        label="适用范围", required=False, widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="不选表示适用于全部；选上级分类即包含其下级（按住 Ctrl 多选）")

    class Meta:
        model = FieldDef
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scope_choices()
        if self.instance.pk:
            self.initial["scope"] = list(self.instance.scope or [])


@admin.register(FieldDef)
class FieldDefAdmin(PreviewChangeFormMixin, MetaRecordAdmin):
    form = FieldDefForm
    change_form_template = "lowcode/fielddef_change_form.html"

    def preview(self, request, instance):
        """Switching 敏感 on or off rewrites the field's stored values: how many, before saving."""
        from lowcode import sensitive

        return sensitive.switch_preview(instance)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        from lowcode import sensitive

        obj = self.get_object(request, object_id) if object_id else None
        if obj is not None and not obj.core and obj.entity in registry.entities():
            # a queued conversion's progress: the values not yet in the shape the field asks for
            extra_context = {**(extra_context or {}), "sensitive_pending":
                             sensitive.pending_count(obj.entity, obj.code, obj.sensitive)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    class Media:
        js = ["lowcode/try-expression.js"]

    list_display = ["label", "entity", "fieldtype", "scope", "reqd", "in_list_view",
                    "in_standard_filter", "hidden", "idx", "core"]
    list_editable = ["idx", "hidden", "in_list_view", "in_standard_filter"]
    list_filter = ["entity", "fieldtype", "core", CustomisedFilter]
    search_fields = ["code", "label"]
    list_select_related = ["dictionary"]
    ordering = ["entity", "idx"]
    fieldsets = [
        ("字段", {"fields": ["entity", "code", "label", "fieldtype", "dictionary", "scope", "idx"]}),
        ("校验", {"fields": ["reqd", "mandatory_depends_on", "depends_on", "min_value", "max_value",
                             "max_length", "precision", "pattern", "pattern_message", "default"]}),
        ("显示与查询", {"fields": ["description", "hidden", "read_only", "sensitive", "in_list_view",
                                "in_standard_filter", "query_mode", "search_index", "in_import"]}),
        ("出厂与本地", {"fields": ["core", "origin_state", "shipped_diff"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        ro = ["core", *self.readonly_fields]
        if obj is not None and obj.core:
            ro += ["entity", "code", "fieldtype"]
        return ro

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.core)


@admin.register(FormLayout)
class FormLayoutAdmin(MetaRecordAdmin):
    form = EntityChoiceForm
    list_display = ["__str__", "entity", "screen", "scope_value", "role", "origin_state"]
    list_filter = ["entity", "screen", CustomisedFilter]


@admin.register(ListView)
class ListViewAdmin(MetaRecordAdmin):
    form = EntityChoiceForm
    list_display = ["__str__", "entity", "role", "page_size", "origin_state"]
    list_filter = ["entity", CustomisedFilter]


@admin.register(Workflow)
class WorkflowAdmin(MetaRecordAdmin):
    form = EntityChoiceForm
    list_display = ["__str__", "entity", "scope_value", "origin_state"]
    list_filter = ["entity"]

    def has_delete_permission(self, request, obj=None):
        # an entity's default workflow (no scope value) gives every new record its first state:
        # without it registration has nowhere to start. It can be edited, not deleted.
        return super().has_delete_permission(request, obj) and not (obj is not None and not obj.scope_value)

    def get_actions(self, request):
        # the bulk delete would bypass the per-object refusal above
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
