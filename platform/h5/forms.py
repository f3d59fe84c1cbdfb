"""H5 forms. The case form is generated from metadata exactly like the PC form (same generated
class, same core-field overrides, layout screen "h5" falling back to "edit"); the handling forms
(log, item, result, help, visit) are the ones every end shares (cases.handling_forms).
Every form is styled for weui by ``style_form``."""
from __future__ import annotations

from django import forms
from django.forms.models import BaseInlineFormSet, inlineformset_factory

from accounts.scope import regions_for
from cases.forms import PartyForm, party_form_for
from cases.handling_forms import datetime_widget
from cases.models import Case, Party
from lowcode import registry
from lowcode.choices import PLEASE_CHOOSE
from lowcode.forms import apply_core_overrides, bound_form, build_form_class, visible_sections
from orgs.models import Region

SCREEN = "h5"


def style_form(form: forms.BaseForm) -> forms.BaseForm:
    """weui classes on every widget, phone-friendly input types, and ``h5_kind`` on each field
    (how the template lays it out: input / select / textarea / switch / multi / radio / file);
    the form's ``short_choices`` as radio buttons (one tap, no blank choice); and the input
    bounds (lowcode.forms.bound_form) on every field."""
    bound_form(form)
    for name in getattr(form, "short_choices", ()):
        field = form.fields[name]
        field.widget = forms.RadioSelect()
        field.choices = [c for c in field.choices if c[0] not in ("", None)]
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
                field.widget = widget = datetime_widget()
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
            field.empty_label = PLEASE_CHOOSE
    elif isinstance(field, forms.ChoiceField):
        choices = list(field.choices)
        if choices and choices[0][0] in ("", None) and str(choices[0][1]).startswith("---"):
            field.choices = [("", PLEASE_CHOOSE)] + choices[1:]


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
            region.queryset = regions_for(user).filter(level__gte=Region.CASE_LEVEL)
            region.empty_label = PLEASE_CHOOSE
            if not self.is_bound and not self.initial.get("region") and user.region_id \
                    and user.region.holds_cases:
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


def login_form_styled(form):
    form.fields["username"].widget.attrs.update({"class": "weui-input", "placeholder": "请输入账号"})
    form.fields["password"].widget.attrs.update({"class": "weui-input", "placeholder": "请输入密码"})
    return style_form(form)
