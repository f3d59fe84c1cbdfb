"""H5 forms. The case form is generated from metadata exactly like the PC form (same generated
class, same core-field overrides, layout screen "h5" falling back to "edit"); the handling forms
(log, item, result, help, visit) are small fixed forms whose choices come from dictionaries.
Every form is styled for weui by ``style_form``."""
from __future__ import annotations

from django import forms
from django.core.validators import MinValueValidator
from django.forms.models import BaseInlineFormSet, inlineformset_factory
from django.utils import timezone

from accounts.scope import regions_for
from cases import actions
from cases.forms import PartyForm, party_form_for
from cases.models import Case, MediationItem, Party
from lowcode import registry
from lowcode.fieldtypes import NOT_IN_FUTURE
from lowcode.forms import apply_core_overrides, bound_form, build_form_class, visible_sections

SCREEN = "h5"
ACCEPT = "image/*,.pdf,.doc,.docx"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


# --- weui styling ------------------------------------------------------------------------------
def _datetime_widget(**attrs) -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local", **attrs}, format=DATETIME_FORMAT)


def style_form(form: forms.BaseForm) -> forms.BaseForm:
    """weui classes on every widget, phone-friendly input types, and ``h5_kind`` on each field
    (how the template lays it out: input / select / textarea / switch / multi / radio / file);
    and the input bounds (lowcode.forms.bound_form) on every field."""
    bound_form(form)
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            kind = "hidden"
        elif isinstance(widget, forms.CheckboxSelectMultiple):
            kind = "multi"
        elif isinstance(widget, forms.RadioSelect):
            kind = "radio"
        elif isinstance(widget, forms.Select):
            kind, widget.attrs["class"] = "select", "weui-select"
            _blank_says_please_choose(field)
        elif isinstance(widget, forms.Textarea):
            kind, widget.attrs["class"] = "textarea", "weui-textarea"
            widget.attrs.setdefault("rows", 3)
        elif isinstance(widget, forms.CheckboxInput):
            kind, widget.attrs["class"] = "switch", "weui-switch"
        elif isinstance(widget, forms.FileInput):
            kind = "file"
        else:
            kind = "input"
            if isinstance(field, forms.DateTimeField) and widget.input_type != "datetime-local":
                field.widget = widget = _datetime_widget()
            elif isinstance(field, forms.DateField) and widget.input_type != "date":
                field.widget = widget = forms.DateInput(attrs={"type": "date"})
            widget.attrs["class"] = "weui-input"
            if isinstance(field, (forms.DecimalField, forms.IntegerField)):
                widget.attrs.setdefault("inputmode", "decimal")
        field.h5_kind = kind
    return form


def _blank_says_please_choose(field: forms.Field) -> None:
    """Django's blank choice "---------" reads as a broken list on a phone; say 请选择."""
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label and field.empty_label.startswith("---"):
            field.empty_label = "请选择"
    elif isinstance(field, forms.ChoiceField):
        choices = list(field.choices)
        if choices and choices[0][0] in ("", None) and str(choices[0][1]).startswith("---"):
            field.choices = [("", "请选择")] + choices[1:]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos/documents in one input; each is checked by ``actions.check_upload``
    (type and size), so a refused file is reported next to the field and nothing is saved."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT, "multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = [d for d in (data if isinstance(data, (list, tuple)) else [data]) if d]
        if not uploads:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        cleaned = [super(MultipleFileField, self).clean(d, initial) for d in uploads]
        for upload in cleaned:
            actions.check_upload(upload)
        return cleaned


def dictionary_choices(code: str, blank: bool = True) -> list[tuple[str, str]]:
    items = [(e.code, e.label) for e in registry.get_dictionary(code).values() if e.is_active]
    return ([("", "请选择")] if blank else []) + items


# --- case registration --------------------------------------------------------------------------
class CaseBaseForm(forms.ModelForm):
    """Base of the generated H5 case form (fields chosen per request from the layout)."""

    class Meta:
        model = Case
        fields: list[str] = []


def case_form_class(user, case_type: str, roles: tuple[str, ...]) -> type[forms.ModelForm]:
    """The metadata form for ``case_type`` on the H5 screen, as MetaModelAdmin.get_form builds it
    on PC: generated class, then core-field overrides; the region limited to the user's subtree
    at community level or below; the case type fixed (chosen on the previous screen)."""
    meta = registry.get_meta("case")
    base = build_form_class(CaseBaseForm, "case", case_type, SCREEN, roles)
    codes = [c for _, cs in visible_sections(meta, case_type, SCREEN, roles) for c in cs]
    for required in ("case_type", "region"):  # the case cannot be saved without them
        if required not in codes:
            codes.append(required)
    generated = forms.modelform_factory(Case, form=base, fields=codes)

    class H5CaseForm(generated):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            apply_core_overrides(self, "case", case_type)
            self.fields["case_type"].widget = forms.HiddenInput()
            self.fields["case_type"].initial = case_type
            region = self.fields["region"]
            region.queryset = regions_for(user).filter(level__gte=3)
            region.empty_label = "请选择"
            if not self.is_bound and not self.initial.get("region") and user.region_id \
                    and user.region.level >= 3:
                self.initial["region"] = user.region_id  # the ModelForm's initial wins over the field's
            style_form(self)

        def clean_case_type(self):
            value = self.cleaned_data.get("case_type")
            if value != case_type:
                raise forms.ValidationError("案件类型与所选类型不一致，请重新选择")
            return value

    H5CaseForm.__name__ = generated.__name__
    return H5CaseForm


class PartyFormSet(BaseInlineFormSet):
    default_error_messages = {"too_few_forms": "请至少填写 %(num)d 位当事人"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for form in self.forms:
            style_form(form)

    @property
    def empty_form(self):
        return style_form(super().empty_form)


def party_formset_class(can_see_sensitive: bool):
    return inlineformset_factory(Case, Party, form=party_form_for(can_see_sensitive), formset=PartyFormSet,
                                 fields=list(PartyForm.Meta.fields), extra=1, min_num=1, validate_min=True,
                                 can_delete=False)


PARTY_INITIAL = [{"role": "applicant"}, {"role": "respondent"}]


# --- handling forms ------------------------------------------------------------------------------
class LogForm(forms.Form):
    occurred_at = forms.DateTimeField(label="调解时间", widget=_datetime_widget(), validators=[NOT_IN_FUTURE])
    place = forms.CharField(label="调解地点", max_length=200, required=False)
    participants = forms.CharField(label="参与人员", max_length=500, required=False)
    content = forms.CharField(label="调解情况", widget=forms.Textarea,
                              error_messages={"required": "请填写调解情况"})
    files = MultipleFileField(label="照片/附件")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        style_form(self)


class ItemForm(forms.ModelForm):
    class Meta:
        model = MediationItem
        fields = ["content", "claim_amount", "settled", "note"]
        error_messages = {"content": {"required": "请填写调解事项"}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        amount = self.fields["claim_amount"]
        amount.min_value = 0  # a claim is never negative (the model column allows it)
        amount.validators.append(MinValueValidator(0))
        amount.widget.attrs["min"] = "0"
        style_form(self)


class ResultForm(forms.Form):
    outcome = forms.ChoiceField(label="调解结果", widget=forms.RadioSelect,
                                error_messages={"required": "请选择调解结果"})
    agreement = forms.CharField(label="协议内容/情况说明", widget=forms.Textarea, required=False)
    amount = forms.DecimalField(label="涉及金额（元）", max_digits=14, decimal_places=2, min_value=0,
                                required=False)
    files = MultipleFileField(label="附件（协议书、照片等）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = dictionary_choices("mediation_outcome", blank=False)
        style_form(self)


class HelpForm(forms.Form):
    reason = forms.CharField(label="求助原因", widget=forms.Textarea,
                             error_messages={"required": "请填写求助原因"})
    expected_fee = forms.DecimalField(label="预期费用（元）", max_digits=12, decimal_places=2, min_value=0,
                                      required=False)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if kind != "dispatch":
            del self.fields["expected_fee"]
        style_form(self)


class VisitForm(forms.Form):
    visited_at = forms.DateTimeField(label="回访时间", widget=_datetime_widget(), validators=[NOT_IN_FUTURE])
    way = forms.ChoiceField(label="回访方式", error_messages={"required": "请选择回访方式"})
    satisfaction = forms.ChoiceField(label="满意度", widget=forms.RadioSelect,
                                     error_messages={"required": "请选择满意度"})
    notes = forms.CharField(label="回访情况", widget=forms.Textarea, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["way"].choices = dictionary_choices("visit_way")
        self.fields["satisfaction"].choices = dictionary_choices("satisfaction", blank=False)
        style_form(self)


def login_form_styled(form):
    form.fields["username"].widget.attrs.update({"class": "weui-input", "placeholder": "请输入账号"})
    form.fields["password"].widget.attrs.update({"class": "weui-input", "placeholder": "请输入密码"})
    return style_form(form)
