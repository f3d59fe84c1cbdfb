"""Forms of the district screens. Datetimes come from <input type="datetime-local">."""
from __future__ import annotations

from django import forms

from accounts import roles
from cases.handling_forms import bootstrap
from lowcode.choices import dictionary_choices
from orgs.models import Region
from orgs.widgets import RegionChoiceField

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)  # the admin skin, and input bounds on every field (dates in range, no control characters …)


class OrderForm(Styled):
    expected_fee = forms.DecimalField(label="预期费用（元）", required=False, min_value=0, max_digits=12,
                                      decimal_places=2)
    mediation_type = forms.ChoiceField(label="调解类型要求", required=False)
    mediation_deadline = forms.DateField(label="调解期限", widget=forms.DateInput(attrs={"type": "date"}))
    signup_start = forms.DateTimeField(label="报名开始时间", input_formats=LOCAL_FORMATS,
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMATS[0]))
    signup_end = forms.DateTimeField(label="报名截止时间", input_formats=LOCAL_FORMATS,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMATS[0]))
    requirements = forms.CharField(label="调解要求", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediation_type"].choices = dictionary_choices("mediation_type", blank="不限")


class WithdrawForm(Styled):
    reason = forms.CharField(label="撤回原因", max_length=300)


class EvaluationForm(Styled):
    score = forms.TypedChoiceField(label="评分", coerce=int, choices=[(i, f"{i} 分") for i in range(5, 0, -1)])
    comment = forms.CharField(label="评价意见", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class StatementForm(Styled):
    organization = forms.ModelChoiceField(label="调解组织", queryset=None, empty_label="请选择")
    start = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = orgs

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise forms.ValidationError("结束日期不能早于开始日期")
            if (data["end"] - data["start"]).days > 366 * 3:
                raise forms.ValidationError("对账期间不能超过三年")
        return data


class OrgForm(Styled):
    name = forms.CharField(label="组织名称", max_length=128)
    region = RegionChoiceField(label="所属区域", queryset=Region.objects.none(), empty_label="请选择")
    contact = forms.CharField(label="联系人", max_length=32, required=False)

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if regions is not None:
            self.fields["region"].queryset = regions.filter(level__lte=Region.Level.STREET)


class AccountForm(Styled):
    username = forms.CharField(label="账号", max_length=150)
    display_name = forms.CharField(label="姓名", max_length=32)
    mobile = forms.CharField(label="手机号", max_length=20, required=False)
    role = forms.ChoiceField(label="角色", choices=())
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles.choices(roles.TP_MEDIATOR, roles.TP_ADMIN)


class VerifyForm(forms.Form):
    """The public voucher check: both the number and the check code printed on the voucher."""
    number = forms.CharField(label="凭证编号", max_length=32, error_messages={"required": "请输入凭证编号"},
                             widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}))
    code = forms.CharField(label="校验码", max_length=64, error_messages={"required": "请输入凭证上的校验码"},
                           help_text="凭证上“校验码（SM3）”一栏的 64 位字符",
                           widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}))
