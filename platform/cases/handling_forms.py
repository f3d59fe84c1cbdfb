"""The case-handling forms — 调解日志, 调解事项, 调解结果, 求助（提级/发单）, 回访 — one class each,
used by every end: PC (the admin's handle page, also the third-party PC end), H5 and the
third-party H5 end. A form here decides what is asked, what is required and what a bad value is
told; an end only styles it (``bootstrap`` here for the PC skins, ``h5.forms.style_form`` for weui).

These are fixed forms over fixed models (MediationLog, MediationResult, HelpRequest, Visit,
MediationItem) whose values go straight into ``cases.actions``; they are not metadata entities,
so they are written here rather than generated from a FormLayout screen."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils import timezone

from cases import actions
from cases.models import MediationItem
from lowcode.choices import dictionary_choices
from lowcode.fieldtypes import NOT_IN_FUTURE
from lowcode.forms import bound_form

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
# the file picker offers what actions.check_upload takes
ACCEPT = ",".join(["image/*", *sorted(actions.ALLOWED_SUFFIXES - IMAGE_SUFFIXES)])
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> shows and sends
def datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


def this_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos/documents in one input. Each is checked by ``actions.check_upload`` (type
    and size), so a refused file is reported next to the field and nothing is saved."""

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


class HandlingForm(forms.Form):
    """Input bounds on every field (lowcode.forms.bound_form), whatever end renders the form.
    ``short_choices``: choice fields short enough to be tapped as radio buttons on a phone."""

    short_choices: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_form(self)


class LogForm(HandlingForm):
    """调解日志. When, where, who and what: a 调解记录 names its time on every end (it defaults to
    now, so a log typed right after the meeting costs nothing)."""

    occurred_at = forms.DateTimeField(label="调解时间", widget=datetime_widget(), validators=[NOT_IN_FUTURE],
                                      error_messages={"required": "请填写调解时间"})
    place = forms.CharField(label="调解地点", max_length=200, required=False)
    participants = forms.CharField(label="参与人员", max_length=500, required=False)
    content = forms.CharField(label="调解情况", widget=forms.Textarea(attrs={"rows": 5}),
                              error_messages={"required": "请填写调解情况"})
    files = MultipleFileField(label="照片/附件")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = this_minute()


class ItemForm(forms.ModelForm):
    """调解清单: one claim under mediation."""

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
        bound_form(self)


class ResultForm(HandlingForm):
    """调解结果, submitted for review by the workflow action that collects it."""

    short_choices = ("outcome",)

    outcome = forms.ChoiceField(label="调解结果", error_messages={"required": "请选择调解结果"})
    agreement = forms.CharField(label="协议内容/情况说明", required=False, widget=forms.Textarea(attrs={"rows": 5}))
    amount = forms.DecimalField(label="涉及金额（元）", required=False, max_digits=14, decimal_places=2, min_value=0)
    files = MultipleFileField(label="附件（协议书、照片等）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = dictionary_choices("mediation_outcome")

    @classmethod
    def initial_from(cls, result) -> dict:
        """A returned result is resubmitted: its values fill the form again."""
        return {"outcome": result.outcome, "agreement": result.agreement, "amount": result.amount} if result else {}


class HelpForm(HandlingForm):
    """案件求助: 申请提级 (``kind`` escalate) or 申请发单 (dispatch). Only a dispatch to a third
    party costs money, so only it asks for the expected fee."""

    reason = forms.CharField(label="求助原因", widget=forms.Textarea(attrs={"rows": 5}),
                             error_messages={"required": "请填写求助原因"})
    expected_fee = forms.DecimalField(label="预期费用（元）", required=False, max_digits=12, decimal_places=2,
                                      min_value=0)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if kind != "dispatch":
            del self.fields["expected_fee"]


class VisitForm(HandlingForm):
    """回访 of a closed case: when, how, how satisfied (the time defaults to now)."""

    short_choices = ("satisfaction",)

    visited_at = forms.DateTimeField(label="回访时间", widget=datetime_widget(), validators=[NOT_IN_FUTURE],
                                     error_messages={"required": "请填写回访时间"})
    way = forms.ChoiceField(label="回访方式", error_messages={"required": "请选择回访方式"})
    satisfaction = forms.ChoiceField(label="满意度", error_messages={"required": "请选择满意度"})
    notes = forms.CharField(label="回访情况", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_at"].initial = this_minute()
        self.fields["way"].choices = dictionary_choices("visit_way")
        self.fields["satisfaction"].choices = dictionary_choices("satisfaction")


def add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """A ValidationError from cases.actions (a dict by field, or a message) onto the form."""
    if hasattr(error, "error_dict"):
        for name, errs in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errs)
    else:
        form.add_error(None, error)


# --- the PC skins (admin and third-party PC end) -----------------------------------------------------
def bootstrap(form: forms.BaseForm) -> forms.BaseForm:
    """Bootstrap classes on every widget, and the input bounds (lowcode.forms.bound_form)."""
    bound_form(form)
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, (forms.CheckboxInput, forms.HiddenInput, forms.RadioSelect, forms.CheckboxSelectMultiple)):
            continue
        w.attrs.setdefault("class", "form-select" if isinstance(w, forms.Select) else "form-control")
    return form
