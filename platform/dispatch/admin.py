"""District screens (PC admin): 发单库/竞选管理 (orders, sign-ups compared, award, withdraw),
待发单案件, 已中选案件 (mediation list, result review, evaluation, 调解对账单 with Excel export),
确认凭证, and 第三方调解组织 with their accounts. Every write is a call into dispatch.actions /
dispatch.accounts; every query starts from dispatch.scope."""
from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts import roles
from cases.actions import ActionRefused
from cases.admin_blocks import label
from cases.models import Review
from dispatch import accounts as tp_accounts
from dispatch import actions, figures
from dispatch.forms import AccountForm, EvaluationForm, OrderForm, OrgForm, StatementForm, WithdrawForm
from dispatch.models import PHASES, AwardedOrder, Bid, DispatchOrder, ThirdPartyOrg, Voucher, phase_q
from dispatch.scope import is_third_party, staff_orders, visible_vouchers
from lowcode.modeladmin import ScopedAdminMixin
from lowcode.registry import format_when

PHASE_STYLES = {"not_started": "secondary", "bidding": "success", "closed": "warning", "awarded": "info",
                "mediating": "primary", "completed": "dark", "withdrawn": "danger"}


def phase_badge(order) -> str:
    return format_html('<span class="badge bg-{}">{}</span>', PHASE_STYLES[order.phase], order.phase_label)


class PhaseFilter(admin.SimpleListFilter):
    title = "状态"
    parameter_name = "phase"

    def lookups(self, request, model_admin):
        return PHASES

    def queryset(self, request, queryset):
        return queryset.filter(phase_q(self.value())) if self.value() in dict(PHASES) else queryset


class StaffOnlyMixin(ScopedAdminMixin):
    """District screens: never for third-party accounts (they have their own ends), whatever
    function permissions their role carries; objects outside the scope answer 404 on every URL."""

    def has_module_permission(self, request):
        return not is_third_party(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return not is_third_party(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False  # changes go through the action pages

    def has_delete_permission(self, request, obj=None):
        return False

    def _require(self, request, perm: str | None = None):
        if not self.has_view_permission(request) or (perm and not request.user.has_perm(perm)):
            raise PermissionDenied

    def _order(self, request, object_id) -> DispatchOrder:
        try:
            pk = int(unquote(object_id))
        except (TypeError, ValueError):
            raise Http404("记录不存在或无权访问") from None
        order = staff_orders(request.user).select_related(
            "case", "case__region", "awarded_org", "awarded_bid__mediator", "created_by").filter(pk=pk).first()
        if order is None:
            raise Http404("记录不存在或无权访问")
        return order

    def _context(self, request, title: str, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}


@admin.register(DispatchOrder)
class DispatchOrderAdmin(StaffOnlyMixin, admin.ModelAdmin):
    list_display = ["number_link", "title", "type_label", "region_name", "expected_fee", "window", "phase_col",
                    "bid_count", "awarded_org", "manage_link"]
    list_display_links = None
    list_filter = [PhaseFilter]
    search_fields = ["number", "title", "case__exchange_id"]
    search_help_text = "搜索：发单编号、标题、案件编号"
    list_select_related = ["region", "awarded_org"]
    show_full_result_count = False
    ordering = ["-created_at", "-pk"]

    def get_queryset(self, request):
        return staff_orders(request.user, super().get_queryset(request)).annotate(
            bid_count=Count("bids", filter=~Q(bids__status="cancelled")))

    # -- columns -----------------------------------------------------------------------------
    @admin.display(description="发单编号", ordering="number")
    def number_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:dispatch_dispatchorder_manage", args=[obj.pk]),
                           obj.number)

    @admin.display(description="案件类型")
    def type_label(self, obj):
        return label("case_type", obj.case_type)

    @admin.display(description="所属区域")
    def region_name(self, obj):
        return obj.region.name

    @admin.display(description="报名时间")
    def window(self, obj):
        return f"{format_when(obj.signup_start)} 至 {format_when(obj.signup_end)}"

    @admin.display(description="状态")
    def phase_col(self, obj):
        return phase_badge(obj)

    @admin.display(description="报名数", ordering="bid_count")
    def bid_count(self, obj):
        return obj.bid_count

    @admin.display(description="操作")
    def manage_link(self, obj):
        text = "比选/选定" if obj.phase == "closed" else "查看"
        return format_html('<a class="btn btn-sm btn-outline-primary text-nowrap" href="{}">{}</a>',
                           reverse("admin:dispatch_dispatchorder_manage", args=[obj.pk]), text)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "title": "竞选管理（发单库）"}
        return super().changelist_view(request, extra_context)

    # -- URLs ------------------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("pending/", wrap(self.pending_view), name="dispatch_dispatchorder_pending"),
            path("<path:object_id>/manage/", wrap(self.manage_view), name="dispatch_dispatchorder_manage"),
            path("<path:object_id>/award/", wrap(self.award_view), name="dispatch_dispatchorder_award"),
            path("<path:object_id>/withdraw/", wrap(self.withdraw_view), name="dispatch_dispatchorder_withdraw"),
            path("<path:object_id>/evaluate/", wrap(self.evaluate_view), name="dispatch_dispatchorder_evaluate"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self._order(request, object_id)
        return HttpResponseRedirect(reverse("admin:dispatch_dispatchorder_manage", args=[order.pk]))

    # -- 待发单案件 and 发单 -------------------------------------------------------------------------
    def pending_view(self, request):
        self._require(request, "dispatch.add_dispatchorder")
        cases = actions.dispatchable_cases(request.user).select_related("region").order_by("-last_progress_at", "-pk")
        q = (request.GET.get("q") or "").strip()
        if q:
            cases = cases.filter(Q(exchange_id__icontains=q) | Q(title__icontains=q))
        rows = [{"case": c, "type": label("case_type", c.case_type),
                 "help": c.help_requests.filter(kind="dispatch").first()} for c in cases[:200]]
        return TemplateResponse(request, "dispatch/pending.html",
                                self._context(request, "待发单案件（发单审核已通过）", rows=rows, q=q))

    def add_view(self, request, form_url="", extra_context=None):
        self._require(request, "dispatch.add_dispatchorder")
        raw = request.GET.get("case") or request.POST.get("case")
        if not raw:
            return HttpResponseRedirect(reverse("admin:dispatch_dispatchorder_pending"))
        try:
            case = actions.dispatchable_cases(request.user).select_related("region").filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            case = None
        if case is None:
            messages.error(request, "该案件不在待发单范围内（未通过发单审核、已有发单或不在您的管辖范围内）")
            return HttpResponseRedirect(reverse("admin:dispatch_dispatchorder_pending"))
        help_request = case.help_requests.filter(kind="dispatch").first()
        now = timezone.localtime()
        initial = {"expected_fee": help_request.expected_fee if help_request else None,
                   "mediation_type": case.mediation_type,
                   "signup_start": now.replace(second=0, microsecond=0),
                   "signup_end": (now + timezone.timedelta(days=3)).replace(second=0, microsecond=0),
                   "mediation_deadline": (now + timezone.timedelta(days=33)).date()}
        form = OrderForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                order = actions.create_order(case, request.user, **form.cleaned_data)
            except ActionRefused as e:
                form.add_error(None, str(e))
            else:
                messages.success(request, f"已发单：{order.number}")
                return HttpResponseRedirect(reverse("admin:dispatch_dispatchorder_manage", args=[order.pk]))
        from dispatch.masking import masked_case_text

        title, description = masked_case_text(case)
        return TemplateResponse(request, "dispatch/create.html", self._context(
            request, f"发单：{case.exchange_id}", case=case, form=form, help_request=help_request,
            masked_title=title, masked_description=description))

    # -- 竞选管理: one order ----------------------------------------------------------------------
    def manage_view(self, request, object_id, withdraw_form=None, evaluation_form=None):
        self._require(request)
        order = self._order(request, object_id)
        bids = list(order.bids.select_related("organization", "mediator").order_by("created_at", "pk"))
        figs = figures.org_figures(b.organization_id for b in bids)
        voucher = Voucher.objects.filter(order=order).first()
        evaluation = getattr(order, "evaluation", None) if order.state == "completed" else None
        can_change = request.user.has_perm("dispatch.change_dispatchorder")
        return TemplateResponse(request, "dispatch/manage.html", self._context(
            request, f"竞选管理：{order.number}", order=order, phase=phase_badge(order),
            bids=[{"bid": b, "fig": figs[b.organization_id]} for b in bids],
            active_count=sum(b.status == "active" for b in bids), bid_summary=bid_summary(bids),
            can_award=can_change and order.phase == "closed",
            can_withdraw=can_change and order.state in ("open", "awarded", "mediating"),
            can_evaluate=(order.state == "completed" and evaluation is None
                          and request.user.has_perm("dispatch.add_evaluation")),
            voucher=voucher, evaluation=evaluation,
            withdraw_form=withdraw_form or WithdrawForm(), evaluation_form=evaluation_form or EvaluationForm(),
            type_label=label("case_type", order.case_type),
            mediation_type_label=label("mediation_type", order.mediation_type) if order.mediation_type else "不限",
            case_detail_url=reverse("admin:cases_case_detail", args=[order.case_id])))

    def _post_only(self, request):
        if request.method != "POST":
            raise Http404("请从竞选管理页面操作")

    def award_view(self, request, object_id):
        self._require(request, "dispatch.change_dispatchorder")
        order = self._order(request, object_id)
        self._post_only(request)
        bid = Bid.objects.filter(order=order, pk=request.POST.get("bid") or 0).first() \
            if (request.POST.get("bid") or "").isdigit() else None
        if bid is None:
            messages.error(request, "请选择一个报名组织")
        else:
            try:
                voucher = actions.award(order, bid, request.user)
            except ActionRefused as e:
                messages.error(request, str(e))
            else:
                messages.success(request, f"已选定 {bid.organization}，确认凭证 {voucher.number}")
        return HttpResponseRedirect(reverse("admin:dispatch_dispatchorder_manage", args=[order.pk]))

    def withdraw_view(self, request, object_id):
        self._require(request, "dispatch.change_dispatchorder")
        order = self._order(request, object_id)
        self._post_only(request)
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                actions.withdraw(order, request.user, reason=form.cleaned_data["reason"])
            except ActionRefused as e:
                messages.error(request, str(e))
            else:
                messages.success(request, f"已撤回发单 {order.number}")
                return HttpResponseRedirect(reverse("admin:dispatch_dispatchorder_manage", args=[order.pk]))
        else:
            messages.error(request, "请填写撤回原因")
        return self.manage_view(request, object_id, withdraw_form=form)

    def evaluate_view(self, request, object_id):
        self._require(request, "dispatch.add_evaluation")
        order = self._order(request, object_id)
        self._post_only(request)
        form = EvaluationForm(request.POST)
        if form.is_valid():
            try:
                actions.evaluate(order, request.user, **form.cleaned_data)
            except ActionRefused as e:
                messages.error(request, str(e))
            else:
                messages.success(request, "已提交调解评价")
            return HttpResponseRedirect(reverse("admin:dispatch_dispatchorder_manage", args=[order.pk]))
        messages.error(request, "请选择 1–5 分的评分")
        return self.manage_view(request, object_id, evaluation_form=form)


@admin.register(AwardedOrder)
class AwardedOrderAdmin(StaffOnlyMixin, admin.ModelAdmin):
    """已中选案件: mediation list; review and evaluation links; 调解对账单."""

    list_display = ["number_link", "case_link", "title", "awarded_org", "mediator", "awarded_at", "phase_col",
                    "case_status", "review_link", "score"]
    list_display_links = None
    list_filter = [PhaseFilter, "awarded_org"]
    search_fields = ["number", "title", "case__exchange_id", "awarded_org__name"]
    search_help_text = "搜索：发单编号、标题、案件编号、组织名称"
    show_full_result_count = False
    ordering = ["-awarded_at", "-pk"]

    def get_queryset(self, request):
        return staff_orders(request.user, super().get_queryset(request)).filter(
            state__in=figures.AWARDED_STATES).select_related("case", "awarded_org", "awarded_bid__mediator",
                                                             "evaluation")

    def has_add_permission(self, request):
        return False

    def get_list_filter(self, request):
        return [PhaseFilter]

    @admin.display(description="发单编号", ordering="number")
    def number_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:dispatch_dispatchorder_manage", args=[obj.pk]),
                           obj.number)

    @admin.display(description="案件编号")
    def case_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_detail", args=[obj.case_id]),
                           obj.case.exchange_id)

    @admin.display(description="调解员")
    def mediator(self, obj):
        return obj.awarded_bid.mediator if obj.awarded_bid_id else ""

    @admin.display(description="状态")
    def phase_col(self, obj):
        return phase_badge(obj)

    @admin.display(description="案件状态")
    def case_status(self, obj):
        return label("case_status", obj.case.status)

    @admin.display(description="结果审核")
    def review_link(self, obj):
        review = Review.objects.filter(case_id=obj.case_id, status="pending").order_by("-submitted_at").first()
        if review is None:
            return ""
        return format_html('<a class="btn btn-sm btn-outline-warning text-nowrap" href="{}">去审核</a>',
                           reverse("admin:cases_review_decide", args=[review.pk]))

    @admin.display(description="评价")
    def score(self, obj):
        ev = getattr(obj, "evaluation", None)
        if ev is not None:
            return f"{ev.score} 分"
        if obj.state == "completed":
            return format_html('<a href="{}#evaluate">去评价</a>',
                               reverse("admin:dispatch_dispatchorder_manage", args=[obj.pk]))
        return ""

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "statement_url": reverse("admin:dispatch_awardedorder_statement")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self._order(request, object_id)
        return HttpResponseRedirect(reverse("admin:dispatch_dispatchorder_manage", args=[order.pk]))

    def get_urls(self):
        return [path("statement/", self.admin_site.admin_view(self.statement_view),
                     name="dispatch_awardedorder_statement")] + super().get_urls()

    def statement_view(self, request):
        """调解对账单: completed orders of one organisation in a period; ?export=xlsx downloads it."""
        from dispatch.statement import export_response

        self._require(request)
        orders = staff_orders(request.user)
        orgs = ThirdPartyOrg.objects.filter(kind="third").order_by("name")
        form = StatementForm(request.GET or None, orgs=orgs)
        result = None
        if request.GET and form.is_valid():
            d = form.cleaned_data
            result = figures.statement(orders.filter(awarded_org=d["organization"]), d["start"], d["end"])
            if request.GET.get("export") == "xlsx":
                return export_response(result, d["organization"], d["start"], d["end"], request=request)
        return TemplateResponse(request, "dispatch/statement.html", self._context(
            request, "调解对账单", form=form, result=result,
            export_query=(request.GET.urlencode() + "&export=xlsx") if result else ""))


@admin.register(Voucher)
class VoucherAdmin(StaffOnlyMixin, admin.ModelAdmin):
    list_display = ["number_link", "order", "organization", "mediator", "issued_at", "confirmed_at", "valid"]
    list_display_links = None
    search_fields = ["number", "order__number", "organization__name"]
    search_help_text = "搜索：凭证编号、发单编号、组织名称"
    list_select_related = ["order", "organization", "mediator"]
    show_full_result_count = False

    def get_queryset(self, request):
        return visible_vouchers(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    @admin.display(description="凭证编号", ordering="number")
    def number_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("dispatch:voucher", args=[obj.pk]), obj.number)

    @admin.display(description="状态")
    def valid(self, obj):
        return "已作废" if obj.revoked_at else ("已确认" if obj.confirmed_at else "待确认")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = int(unquote(object_id))
        except (TypeError, ValueError):
            raise Http404("记录不存在或无权访问") from None
        if not self.has_view_permission(request) or not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404("记录不存在或无权访问")
        return HttpResponseRedirect(reverse("dispatch:voucher", args=[pk]))


@admin.register(ThirdPartyOrg)
class ThirdPartyOrgAdmin(StaffOnlyMixin, admin.ModelAdmin):
    """第三方调解组织 and their accounts: create, open/close, roles (function rights are the roles'
    permissions — 用户与角色 › 组)."""

    list_display = ["name_link", "region", "contact", "is_active", "account_count", "awards"]
    list_display_links = None
    search_fields = ["name"]
    list_filter = ["is_active"]

    def get_queryset(self, request):
        return tp_accounts.manageable_orgs(request.user).annotate(account_count=Count("users")).select_related("region")

    @admin.display(description="组织名称", ordering="name")
    def name_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:dispatch_thirdpartyorg_accounts", args=[obj.pk]),
                           obj.name)

    @admin.display(description="账号数", ordering="account_count")
    def account_count(self, obj):
        return obj.account_count

    @admin.display(description="中选/完成")
    def awards(self, obj):
        f = figures.org_figures([obj.pk])[obj.pk]
        return f"{f.awards} / {f.completed}"

    def get_urls(self):
        return [path("<path:object_id>/accounts/", self.admin_site.admin_view(self.accounts_view),
                     name="dispatch_thirdpartyorg_accounts")] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        org = self._org(request, object_id)
        return HttpResponseRedirect(reverse("admin:dispatch_thirdpartyorg_accounts", args=[org.pk]))

    def _org(self, request, object_id):
        self._require(request)
        try:
            pk = int(unquote(object_id))
        except (TypeError, ValueError):
            raise Http404("记录不存在或无权访问") from None
        org = self.get_queryset(request).filter(pk=pk).first()
        if org is None:
            raise Http404("记录不存在或无权访问")
        return org

    def add_view(self, request, form_url="", extra_context=None):
        from accounts.scope import regions_for

        self._require(request, "dispatch.add_thirdpartyorg")
        form = OrgForm(request.POST or None, regions=regions_for(request.user))
        if request.method == "POST" and form.is_valid():
            try:
                org = tp_accounts.create_org(request.user, **form.cleaned_data)
            except ActionRefused as e:
                form.add_error(None, str(e))
            else:
                messages.success(request, f"已新增第三方调解组织：{org.name}")
                return HttpResponseRedirect(reverse("admin:dispatch_thirdpartyorg_accounts", args=[org.pk]))
        return TemplateResponse(request, "dispatch/form.html", self._context(
            request, "新增第三方调解组织", form=form, back_url=reverse("admin:dispatch_thirdpartyorg_changelist")))

    def accounts_view(self, request, object_id):
        from accounts.models import User

        org = self._org(request, object_id)
        form = AccountForm()
        if request.method == "POST":
            if not request.user.has_perm("dispatch.change_thirdpartyorg"):
                raise PermissionDenied
            op = request.POST.get("op", "")
            try:
                if op == "create":
                    form = AccountForm(request.POST)
                    if form.is_valid():
                        account = tp_accounts.create_account(request.user, org=org, request=request, **form.cleaned_data)
                        messages.success(request, f"已创建账号 {account.username}")
                        return HttpResponseRedirect(request.path)
                elif op in ("org_open", "org_close"):
                    tp_accounts.set_org_active(request.user, org, op == "org_open")
                    messages.success(request, "已启用组织" if op == "org_open" else "已停用组织及其全部账号")
                    return HttpResponseRedirect(request.path)
                elif op in ("open", "close", "role"):
                    account = User.objects.filter(organization=org, pk=request.POST.get("account") or 0).first() \
                        if (request.POST.get("account") or "").isdigit() else None
                    if account is None:
                        raise ActionRefused("账号不存在")
                    if op == "role":
                        tp_accounts.set_account_role(request.user, account, request.POST.get("role", ""), request=request)
                    else:
                        tp_accounts.set_account_active(request.user, account, op == "open", request=request)
                    messages.success(request, f"已更新账号 {account.username}")
                    return HttpResponseRedirect(request.path)
                else:
                    raise ActionRefused("未知操作")
            except ActionRefused as e:
                messages.error(request, str(e))
        tp_groups = set(roles.groups(*roles.THIRD_PARTY).values_list("pk", flat=True))
        accounts = [{"user": u, "roles": "、".join(g.name for g in u.groups.all() if g.pk in tp_groups)}
                    for u in tp_accounts.org_accounts(request.user, org).prefetch_related("groups")]
        return TemplateResponse(request, "dispatch/org_accounts.html", self._context(
            request, f"第三方调解组织：{org.name}", org=org, form=form, accounts=accounts,
            roles=roles.choices(*roles.THIRD_PARTY), figures=figures.org_figures([org.pk])[org.pk]))


def bid_summary(bids) -> str:
    """The sign-ups by state, for the header above the listed bids: "已中选 1 个、未中选 2 个" (after
    the award no bid is still 已报名, so a bare "有效报名 0 个" above three rows misled)."""
    from collections import Counter

    from dispatch.models import Bid

    counts = Counter(b.status for b in bids)
    return "、".join(f"{label} {counts[value]} 个" for value, label in Bid.Status.choices if counts[value])
