"""审核 screens: the reviews waiting for me (结果审核 / 提级审核 / 发单审核 and any review step a
business admin adds to the workflow), and the decide page. Deciding is actions.do_transition —
the same service the phone end uses — so a decision is made exactly once and leaves its trace."""
from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.scope import InternalScreenMixin, internal_staff, scope_queryset
from cases import actions, admin_blocks, workbench
from cases.actions import ActionRefused
from cases.models import Case, HelpRequest, Review
from lowcode.modeladmin import ScopedAdminMixin
from lowcode.registry import format_when

DECISION_STYLES = {"approve": "btn-success", "return": "btn-warning", "reject": "btn-danger"}
# which help request a review step looks at, when the workflow does not say (form of the transition)
HELP_FOR_KIND = {"escalation": "escalate", "dispatch": "dispatch"}


class ReviewBoxFilter(admin.SimpleListFilter):
    """待我审核 (default) / 已审核 / 全部."""

    title = "审核事项"
    parameter_name = "box"

    def lookups(self, request, model_admin):
        return [("mine", "待我审核"), ("done", "已审核"), ("all", "全部")]

    def value(self):
        return super().value() or "mine"

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {"selected": self.value() == lookup, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(workbench.waiting_q(request.user))
        if self.value() == "done":
            return queryset.exclude(status="pending")
        return queryset


class ReviewKindFilter(admin.SimpleListFilter):
    title = "审核类别"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return workbench.review_kinds()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class ReviewAdmin(InternalScreenMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["case_link", "case_title", "kind_label", "region_name", "submitted_by", "submitted_at",
                    "waiting", "status", "decided_by", "decided_at", "opinion", "handle_link"]
    list_display_links = None
    list_filter = [ReviewBoxFilter, ReviewKindFilter, "status"]
    search_fields = ["case__exchange_id", "case__title"]
    search_help_text = "搜索：案件编号、案件标题"
    # users are fetched by id after the page's rows (get_queryset), not joined: with ~1,000 accounts
    # the planner joined them by nested loop under a 1-row misestimate (issue #17, 0.4–0.9 s)
    list_select_related = ["case", "case__region"]
    show_full_result_count = False
    ordering = ["-submitted_at", "-pk"]

    def get_list_display(self, request):
        if request.GET.get(ReviewBoxFilter.parameter_name, "mine") == "mine":  # nothing decided yet
            return [c for c in self.list_display if c not in ("status", "decided_by", "decided_at", "opinion")]
        if request.GET.get(ReviewBoxFilter.parameter_name) == "done":
            return [c for c in self.list_display if c != "waiting"]
        return self.list_display

    # -- permissions: case handlers see reviews of the cases in their scope -------------
    def has_view_permission(self, request, obj=None):
        return internal_staff(request.user) and (request.user.has_perm("cases.view_case")
                                                 or super().has_view_permission(request, obj))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # decisions go through the decide page (actions.do_transition)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request), "case__region_path").prefetch_related(
            "submitted_by", "decided_by")

    # -- columns ------------------------------------------------------------------------
    def _decide_url(self, obj) -> str:
        return reverse("admin:cases_review_decide", args=[obj.pk])

    @admin.display(description="案件编号", ordering="case__exchange_id")
    def case_link(self, obj):
        return format_html('<a href="{}">{}</a>', self._decide_url(obj), obj.case.exchange_id)

    @admin.display(description="案件标题")
    def case_title(self, obj):
        return obj.case.title

    @admin.display(description="审核类别", ordering="kind")
    def kind_label(self, obj):
        return workbench.review_kind_label(obj.kind)

    @admin.display(description="所属区域")
    def region_name(self, obj):
        return obj.case.region.name

    @admin.display(description="已等待")
    def waiting(self, obj):
        if obj.status != "pending":
            return ""
        hours = int((timezone.now() - obj.submitted_at).total_seconds() // 3600)
        return f"{hours // 24} 天 {hours % 24} 小时" if hours >= 24 else f"{hours} 小时"

    @admin.display(description="操作")
    def handle_link(self, obj):
        text = "去审核" if obj.status == "pending" else "查看"
        return format_html('<a class="btn btn-sm btn-outline-primary text-nowrap" href="{}">{}</a>',
                           self._decide_url(obj), text)

    # -- URLs ------------------------------------------------------------------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [path("<path:object_id>/decide/", self.admin_site.admin_view(self.decide_view),
                     name="%s_%s_decide" % info)] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._get_review(request, object_id)
        return HttpResponseRedirect(reverse("admin:cases_review_decide", args=[unquote(object_id)]))

    def _get_review(self, request, object_id) -> Review:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            pk = int(unquote(object_id))
        except (TypeError, ValueError):
            raise Http404("记录不存在或无权访问") from None
        review = self.get_queryset(request).select_related("case", "case__region", "submitted_by",
                                                           "decided_by").filter(pk=pk).first()
        if review is None:
            raise Http404("记录不存在或无权访问")
        return review

    # -- the decide page ---------------------------------------------------------------------
    def decide_view(self, request, object_id):
        review = self._get_review(request, object_id)
        opinion = ""
        if request.method == "POST":
            opinion = request.POST.get("opinion", "")
            action = request.POST.get("action", "")
            try:
                self._decide(request, review, action, opinion)
            except ActionRefused as e:
                messages.error(request, str(e))
                review = self._get_review(request, object_id)  # what it is now (someone may have decided)
            else:
                messages.success(request, f"已{action}：{review.case}")
                return HttpResponseRedirect(reverse("admin:cases_review_changelist"))
        return TemplateResponse(request, "cases/review_decide.html",
                                self.decide_context(request, review, opinion))

    def _decide(self, request, review: Review, action: str, opinion: str) -> None:
        case = review.case
        if review.status != "pending" or case.status != review.state:
            raise ActionRefused(f"该审核已处理（{review.get_status_display()}），不能再次审核")
        t = actions.workflow(case).find(review.state, action)
        if t is None or not t.decision:
            raise ActionRefused(f"“{action or '（空）'}”不是本审核环节的审核动作")
        actions.do_transition(case, action, request.user, opinion=opinion, review=review)

    def decide_context(self, request, review: Review, opinion: str) -> dict:
        from cases.admin import can_see_sensitive

        case = review.case
        case_admin = self.admin_site._registry[Case]
        pending = review.status == "pending" and case.status == review.state
        decisions, refusal = [], ""
        try:
            wf = actions.workflow(case)
        except ActionRefused as e:  # no workflow configured for the case type
            wf, refusal = None, str(e)
        if pending and wf is not None:
            decisions = [t for t in actions.available_actions(case, request.user) if t.decision]
            if not decisions:
                possible = [t for t in wf.transitions if review.state in t.source and t.decision]
                refusal = actions.refusal_reason(case, request.user, possible[0].action) if possible else \
                    "该审核环节没有配置审核动作，请联系业务配置管理员"
        forms = {t.form for t in wf.transitions if t.target == review.state and t.form} if wf else set()
        blocks = [admin_blocks.parties_block(case, can_see_sensitive(request))]
        if "result" in forms or review.kind == "result":
            blocks.append(admin_blocks.result_block(case))
            blocks.append(admin_blocks.items_block(case))
        help_kinds = tuple(forms & {k for k, _ in HelpRequest.KINDS}) or \
            ((HELP_FOR_KIND[review.kind],) if review.kind in HELP_FOR_KIND else ())
        if help_kinds:
            blocks.append(admin_blocks.help_block(case, help_kinds, latest_only=True))
        blocks += [admin_blocks.logs_block(case), admin_blocks.reviews_block(case), admin_blocks.trace_block(case)]
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{workbench.review_kind_label(review.kind)}：{case}",
            "review": review,
            "case": case,
            "kind_label": workbench.review_kind_label(review.kind),
            "state_label": admin_blocks.label("case_status", review.state),
            "submitted_at": format_when(review.submitted_at),
            "decided_at": format_when(review.decided_at) if review.decided_at else "",
            "pending": pending,
            "decisions": [{"action": t.action, "opinion": t.opinion,
                           "style": DECISION_STYLES.get(t.decision, "btn-primary")} for t in decisions],
            "opinion_required": "、".join(f"“{t.action}”" for t in decisions if t.opinion),
            "refusal": refusal,
            "opinion": opinion,
            "sections": case_admin.detail_sections(request, case, "review"),
            "blocks": blocks,
            "case_detail_url": reverse("admin:cases_case_detail", args=[case.pk]),
        }
