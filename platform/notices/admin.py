"""消息中心 on PC: each user sees only their own notices, unread first; opening one marks it
read. The unread count is shown on the menu entry (and on the workbench)."""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse
from django.utils.html import format_html

from lowcode.modeladmin import ScopedAdminMixin
from lowcode.registry import format_when
from notices.actions import mark_read, readable, unread_by_kind, unread_count
from notices.models import Notice

MENU_LABEL = "我的消息"


class ReadFilter(admin.SimpleListFilter):
    title = "阅读状态"
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("unread", "未读"), ("read", "已读")]

    def queryset(self, request, queryset):
        if self.value() == "unread":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "read":
            return queryset.filter(read_at__isnull=False)
        return queryset


@admin.register(Notice)
class NoticeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["read_badge", "kind", "title", "case_link", "when"]
    list_display_links = ["title"]
    list_filter = [ReadFilter, "kind"]
    search_fields = ["title", "body"]
    fields = ["kind", "title", "body", "case_link", "when", "read_at"]
    readonly_fields = fields
    actions = ["mark_selected_read"]
    show_full_result_count = False
    change_list_template = "notices/change_list.html"

    # every signed-in staff user has a message box; what is in it is only their own
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and (obj is None or obj.recipient_id == request.user.pk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # own notices, and of those only the ones whose case the user may still see
        return readable(request.user, super().get_queryset(request)).select_related("case")

    def get_ordering(self, request):
        unread_first = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                            output_field=IntegerField())
        return [unread_first.asc(), "-created_at", "-id"]

    @admin.display(description="状态", ordering="read_at")
    def read_badge(self, obj):
        if obj.read_at is None:
            return format_html('<span class="badge bg-danger">{}</span>', "未读")
        return format_html('<span class="badge bg-secondary">{}</span>', "已读")

    @admin.display(description="时间", ordering="created_at")
    def when(self, obj):
        return format_when(obj.created_at)

    @admin.display(description="相关案件")
    def case_link(self, obj):
        if obj.case_id is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_detail", args=[obj.case_id]),
                           obj.case.exchange_id)

    @admin.action(description="标为已读", permissions=["view"])
    def mark_selected_read(self, request, queryset):
        n = mark_read(request.user, queryset.values_list("pk", flat=True))
        messages.success(request, f"已将 {n} 条消息标为已读")

    def get_urls(self):
        from django.urls import path

        return [path("read-all/", self.admin_site.admin_view(self.read_all_view), name="notices_notice_read_all"),
                *super().get_urls()]

    def read_all_view(self, request):
        """全部标为已读 (of the kind shown, when the list is filtered by one)."""
        from django.http import HttpResponseNotAllowed, HttpResponseRedirect

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"], "请使用“全部标为已读”按钮")
        kinds = dict(Notice.KINDS)
        kind = request.POST.get("kind") or ""
        if kind and kind not in kinds:
            messages.error(request, "未知的消息类别")
            return HttpResponseRedirect(reverse("admin:notices_notice_changelist"))
        n = mark_read(request.user, kind=kind or None)
        what = f"“{kinds[kind]}”" if kind else ""
        messages.success(request, f"已将 {n} 条{what}消息标为已读" if n else "没有未读消息")
        url = reverse("admin:notices_notice_changelist")
        return HttpResponseRedirect(f"{url}?kind__exact={kind}" if kind else url)

    def changelist_view(self, request, extra_context=None):
        kind = request.GET.get("kind__exact", "")
        extra_context = {**(extra_context or {}), "notice_kinds": unread_by_kind(request.user),
                         "notice_kind": kind if kind in dict(Notice.KINDS) else "",
                         "notice_unread": unread_count(request.user)}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from django.contrib.admin.utils import unquote

        try:
            pk = int(unquote(object_id))
        except (TypeError, ValueError):
            pk = None
        if pk is not None:
            mark_read(request.user, [pk])  # only the user's own notice can be marked
        return super().change_view(request, object_id, form_url, extra_context)


def install_menu_count(site) -> None:
    """Show the unread count on the 消息 menu entry (jazzmin's side menu reads available_apps)."""
    if getattr(site, "_notice_count_installed", False):
        return
    plain_each_context = site.each_context

    def each_context(request):
        context = plain_each_context(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            count = unread_count(user)
            context["unread_notice_count"] = count
            for app in context.get("available_apps", []):
                if app.get("app_label") != "notices":
                    continue
                for model in app.get("models", []):
                    if model.get("object_name") == "Notice":
                        model["name"] = f"{MENU_LABEL}（{count}）" if count else MENU_LABEL
        return context

    site.each_context = each_context
    site._notice_count_installed = True


install_menu_count(admin.site)
