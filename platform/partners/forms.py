"""Forms of the third-party ends: combined queries (bad values are reported, never a 500),
sign-up, organisation info, a new mediator, a party of an awarded case. PC forms get Bootstrap
classes (the admin skin); the H5 end passes them through ``h5.forms.style_form``."""
from __future__ import annotations

from django import forms

from accounts import roles
from cases.forms import party_form_for
from cases.handling_forms import bootstrap  # noqa: F401 - the PC views style their forms with it
from dispatch.models import Bid
from lowcode.choices import dictionary_choices
from partners.models import OrgProfile


class QueryForm(forms.Form):
    """Shared by every list: text (case content), type, fee range; the status field per list."""

    q = forms.CharField(label="关键词", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": "标题、情况描述、调解要求或编号"}))
    case_type = forms.ChoiceField(label="案件类型", required=False)
    fee_min = forms.DecimalField(label="预期费用从", required=False, min_value=0, max_digits=12, decimal_places=2)
    fee_max = forms.DecimalField(label="至", required=False, min_value=0, max_digits=12, decimal_places=2)

    status_field = None  # (name, label, choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].choices = dictionary_choices("case_type", blank="全部")
        if self.status_field:
            name, text, choices = self.status_field
            self.fields[name] = forms.ChoiceField(label=text, required=False, choices=[("", "全部")] + list(choices))
            self.order_fields([name, "q"])

    def clean(self):
        data = super().clean()
        lo, hi = data.get("fee_min"), data.get("fee_max")
        if lo is not None and hi is not None and lo > hi:
            raise forms.ValidationError("预期费用的起始值不能大于结束值")
        return data

    def values(self) -> dict:
        """Cleaned values for the query; an invalid form queries with nothing (and shows why)."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")} if self.is_valid() else {}


class PoolQuery(QueryForm):
    status_field = ("phase", "竞单状态", [("not_started", "未开始"), ("bidding", "报名中")])


class BidQuery(QueryForm):
    status_field = ("status", "报名状态", Bid.Status.choices)


class CaseQuery(QueryForm):
    status_field = ("phase", "案件状态", [("awarded", "已选定（待确认凭证）"), ("mediating", "调解中"),
                                         ("completed", "已完成")])


class SignUpForm(forms.Form):
    plan = forms.CharField(label="调解方案/报名说明", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 4}))
    quoted_fee = forms.DecimalField(label="报价（元）", required=False, min_value=0, max_digits=12, decimal_places=2)

    def __init__(self, *args, org=None, choose_mediator: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if choose_mediator:
            from accounts.models import User

            self.fields["mediator"] = forms.ModelChoiceField(
                label="承办调解员", empty_label="请选择",
                queryset=User.objects.filter(organization=org, is_active=True, groups__role__code=roles.TP_MEDIATOR)
                .order_by("display_name", "username"))
            self.order_fields(["mediator"])


class OrgInfoForm(forms.ModelForm):
    contact = forms.CharField(label="联系人", required=False, max_length=32)

    class Meta:
        model = OrgProfile
        fields = ["phone", "address", "specialties", "intro"]
        widgets = {"intro": forms.Textarea(attrs={"rows": 5})}

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not all(ch.isdigit() or ch in "-+ " for ch in phone):
            raise forms.ValidationError("联系电话只能包含数字、空格和 - +")
        return phone


class MediatorForm(forms.Form):
    username = forms.CharField(label="登录账号", max_length=150)
    display_name = forms.CharField(label="姓名", max_length=32)
    mobile = forms.CharField(label="手机号", required=False, max_length=20)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput(render_value=False), strip=False,
                               help_text="至少 8 位，不能过于简单；请线下告知调解员并提醒其首次登录后修改")
    active = forms.BooleanField(label="立即启用", required=False, initial=True)

    def clean_mobile(self):
        mobile = self.cleaned_data["mobile"].strip()
        if mobile and not (mobile.isdigit() and len(mobile) == 11 and mobile.startswith("1")):
            raise forms.ValidationError("请填写 11 位手机号")
        return mobile


def party_form_class():
    """The metadata party form (core fields + extras), identity fields in full: the user types
    them; a third party never sees other parties' full numbers (masked on display)."""
    return party_form_for(False)


class PeriodForm(forms.Form):
    start = forms.DateField(label="从", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label="关键词", required=False, max_length=100)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("开始日期不能晚于结束日期")
        return data

    def period(self):
        from partners.queries import Period

        if not self.is_valid():
            return Period(None, None)
        return Period(self.cleaned_data.get("start"), self.cleaned_data.get("end"))


class AnalysisForm(PeriodForm):
    q = None  # figures are not searched by text
