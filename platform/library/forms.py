"""Fixed forms of the library screens (PC and H5 style them)."""
from __future__ import annotations

from django import forms

from lowcode.choices import dictionary_choices


class ProposeForm(forms.Form):
    title = forms.CharField(label="案例标题", max_length=200)
    reason = forms.CharField(label="推荐理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    writeup = forms.CharField(label="案例材料（匿名）", max_length=20000, widget=forms.Textarea(attrs={"rows": 14}),
                              help_text="系统已按案件自动起草并匿名（当事人写作“王某”，不含证件号码、电话、住址），请修改完善")
    method = forms.CharField(label="调解方法", max_length=200, required=False)
    legal_basis = forms.CharField(label="法律依据", max_length=2000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, max_length=64)
    typical_level = forms.ChoiceField(label="典型级别", required=False)
    opinion = forms.CharField(label="审核意见", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["typical_level"].choices = dictionary_choices("typical_level")


class SearchForm(forms.Form):
    q = forms.CharField(label="纠纷情况", max_length=200, required=False)
    scope = forms.ChoiceField(label="范围", required=False, choices=[("", "典型案例和已办结案件"),
                                                                  ("typical", "只看典型案例"), ("case", "只看已办结案件")])
    case_type = forms.ChoiceField(label="纠纷类型", required=False)
    mediation_type = forms.ChoiceField(label="调解类型", required=False)
    tag = forms.ChoiceField(label="标签", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].choices = dictionary_choices("case_type", blank="全部")
        self.fields["mediation_type"].choices = dictionary_choices("mediation_type", blank="全部")
        self.fields["tag"].choices = dictionary_choices("case_tag", blank="全部")

    def kinds(self) -> tuple[str, ...]:
        scope = self.cleaned_data.get("scope") or ""
        return (scope,) if scope else ("typical", "case")


class QASearchForm(forms.Form):
    q = forms.CharField(label="问题", max_length=200, required=False)


class KeyMatterForm(forms.Form):
    level = forms.ChoiceField(label="重点级别")
    leader = forms.CharField(label="包案领导", max_length=50)
    reason = forms.CharField(label="列为重点事的原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = dictionary_choices("key_matter_level")


class CloseKeyMatterForm(forms.Form):
    close_note = forms.CharField(label="销号说明", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class QAImportForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）")


def bootstrap(form):
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.Select):
            w.attrs.setdefault("class", "form-select")
        elif not isinstance(w, (forms.HiddenInput, forms.CheckboxInput)):
            w.attrs.setdefault("class", "form-control")
    return form
