"""Screens: 重复线索清单 (pairs, with filters and confirm / reject), 一件事档案 (with 移出), and
重复研判参数 (settings with a 试算 preview before saving). Row scope: a pair is listed only when
the user may see both of its records (below the district: ``Pair.scope_path``, their common
region)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from extensions.dedup import actions, preview
from extensions.dedup.models import DedupGroup, DedupSettings, GroupMember, Pair, Signature
from lowcode.admin import MetaRecordAdmin, PreviewChangeFormMixin
from lowcode.lists import BoundedDateFieldListFilter
from lowcode.modeladmin import ScopedAdminMixin


def sees_every_record(user) -> bool:
    """True when ``user``'s scope holds every record the duplicate model compares: a superuser,
    or a district-level user whose region subtree holds every region (one district per
    deployment) — unlocated clues are theirs too. Then the lists need no per-row scope filter:
    the district-wide ``IN`` over every visible signature is what made the list take minutes
    after a large import (issue 18)."""
    from accounts.scope import region_prefix, scope_q
    from clues.actions import is_district_level
    from orgs.models import Region

    if scope_q(user, "region_path") is None:
        return True
    cached = getattr(user, "_dedup_sees_all", None)  # one query per request, not per list part
    if cached is None:
        prefix = region_prefix(user)
        cached = bool(prefix and is_district_level(user)
                      and not Region.objects.exclude(path__startswith=prefix).exists())
        user._dedup_sees_all = cached
    return cached


def visible_signatures(user):
    """Signatures of the records ``user`` may see (cases by region; clues as the clue list)."""
    from accounts.scope import scope_q
    from clues.actions import is_district_level

    q = scope_q(user, "region_path")
    qs = Signature.objects.all()
    if q is None or sees_every_record(user):
        return qs
    if is_district_level(user):
        q |= Q(kind="clue", region_path="")
    return qs.filter(q)


def _safe_next(request, fallback: str) -> str:
    nxt = request.GET.get("next") or request.POST.get("next") or ""
    ok = url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                         require_https=request.is_secure())
    return nxt if nxt and ok else fallback


class ChannelFilter(admin.SimpleListFilter):
    title = "来源"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        from clues.models import channel_choices

        return channel_choices()  # local registration is a channel too (metadata/channels.yaml)

    def queryset(self, request, queryset):
        if self.value():
            prefix = f"{self.value()}:"
            return queryset.filter(Q(a_key__startswith=prefix) | Q(b_key__startswith=prefix))
        return queryset


class KindFilter(admin.SimpleListFilter):
    title = "涉及"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("clue", "线索与线索/案件"), ("case", "仅案件之间")]

    def queryset(self, request, queryset):
        clue_keys = Signature.objects.filter(kind="clue").values("key")
        if self.value() == "clue":
            return queryset.filter(Q(a_key__in=clue_keys) | Q(b_key__in=clue_keys))
        if self.value() == "case":
            return queryset.exclude(a_key__in=clue_keys).exclude(b_key__in=clue_keys)
        return queryset


@admin.register(Pair)
class PairAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """重复线索清单."""

    list_display = ["a_link", "b_link", "verdict", "score", "reason_text", "status", "updated_at"]
    list_filter = ["verdict", "status", ChannelFilter, KindFilter, ("updated_at", BoundedDateFieldListFilter)]
    search_fields = ["a_key", "b_key"]
    search_help_text = "按记录标识搜索，例：hotline12345:HOT2026062000130"
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ["a_key", "b_key", "verdict", "score", "reason_text", "status", "decided_by",
                       "decided_at", "updated_at"]
    fields = readonly_fields

    def get_queryset(self, request):
        from accounts.scope import region_prefix
        from clues.actions import is_district_level

        qs = super().get_queryset(request)
        user = request.user
        if sees_every_record(user):
            return qs
        prefix = region_prefix(user)
        if prefix and not is_district_level(user):
            # both records are inside the prefix ⇔ their common region path is (unlocated clues are
            # the district's, their pairs' scope is ""): one indexed prefix match, no IN (issue 18)
            return qs.filter(scope_path__startswith=prefix)
        keys = visible_signatures(user).values("key")
        return qs.filter(a_key__in=keys, b_key__in=keys)

    def get_changelist_instance(self, request):
        """The page's records in one query (not two per row)."""
        cl = super().get_changelist_instance(request)
        rows = list(cl.result_list)
        keys = {k for p in rows for k in (p.a_key, p.b_key)}
        sigs = {s["key"]: s for s in Signature.objects.filter(key__in=keys).values("key", "kind", "obj_id", "title")}
        for p in rows:
            p._sigs = sigs
        return cl

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def _link(self, key, known: dict | None = None):
        if known is not None:
            sig = known.get(key)
        else:
            sig = Signature.objects.filter(key=key).values("kind", "obj_id", "title").first()
        if sig is None:
            return key
        from extensions.dedup.panels import record_link

        return record_link(sig["kind"], sig["obj_id"], f"{key} {sig['title']}"[:60])

    @admin.display(description="记录A")
    def a_link(self, obj):
        return self._link(obj.a_key, getattr(obj, "_sigs", None))

    @admin.display(description="记录B")
    def b_link(self, obj):
        return self._link(obj.b_key, getattr(obj, "_sigs", None))

    @admin.display(description="理由")
    def reason_text(self, obj):
        return "、".join(obj.reasons)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("<int:pk>/decide/", wrap(self.decide_view), name="dedup_pair_decide")] + super().get_urls()

    def decide_view(self, request, pk):
        if not request.user.has_perm("dedup.change_pair"):
            raise PermissionDenied
        pair = self.get_queryset(request).filter(pk=pk).first()
        if pair is None:
            raise Http404("记录不存在或无权访问")
        do = request.POST.get("do") or request.GET.get("do")
        back = _safe_next(request, reverse("admin:dedup_pair_changelist"))
        if do not in ("confirm", "reject"):
            messages.error(request, "未知的操作")
            return HttpResponseRedirect(back)
        if request.method == "POST":
            try:
                actions.decide(pair, request.user, do)
            except actions.DecisionError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已{'确认' if do == 'confirm' else '否决'}：{pair.a_key} 与 {pair.b_key} "
                                          f"{pair.get_verdict_display()}")
            return HttpResponseRedirect(back)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "pair": pair,
                   "do": do, "next": back, "a": self._link(pair.a_key), "b": self._link(pair.b_key),
                   "title": ("确认" if do == "confirm" else "否决") + pair.get_verdict_display()}
        return TemplateResponse(request, "dedup/decide.html", context)


class MemberInline(admin.TabularInline):
    model = GroupMember
    extra = 0
    fields = ["record", "added_by", "added_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("dedup.view_dedupgroup")  # the members are part of the file

    def get_queryset(self, request):
        # members outside the user's scope are not listed (not even their keys or titles)
        qs = super().get_queryset(request)
        if sees_every_record(request.user):
            return qs
        return qs.filter(key__in=visible_signatures(request.user).values("key"))

    @admin.display(description="记录")
    def record(self, obj):
        return PairAdmin._link(None, obj.key)


@admin.register(DedupGroup)
class DedupGroupAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "member_count", "created_by", "created_at"]
    search_fields = ["name", "members__key"]
    readonly_fields = ["name", "region_path", "created_by", "created_at"]
    fields = readonly_fields
    inlines = [MemberInline]

    def get_queryset(self, request):
        # a file is listed when the user may see at least one of its records
        qs = super().get_queryset(request).select_related("created_by")
        if not sees_every_record(request.user):
            visible = visible_signatures(request.user).values("key")
            qs = qs.filter(pk__in=GroupMember.objects.filter(key__in=visible).values("group_id"))
        return qs

    def get_changelist_instance(self, request):
        """The page's member counts in one query (not one per row)."""
        from django.db.models import Count

        cl = super().get_changelist_instance(request)
        rows = list(cl.result_list)
        counts = dict(GroupMember.objects.filter(group__in=[g.pk for g in rows]).values_list("group")
                      .annotate(n=Count("pk")).values_list("group", "n"))
        for g in rows:
            g._member_count = counts.get(g.pk, 0)
        return cl

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="记录数（全部）")
    def member_count(self, obj):
        n = getattr(obj, "_member_count", None)
        return obj.members.count() if n is None else n

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("<int:pk>/split/", wrap(self.split_view), name="dedup_dedupgroup_split")] + super().get_urls()

    def split_view(self, request, pk):
        if not request.user.has_perm("dedup.change_pair"):
            raise PermissionDenied
        key = request.POST.get("key") or request.GET.get("key") or ""
        member = GroupMember.objects.filter(group_id=pk, key=key).select_related("group").first()
        if member is None or not visible_signatures(request.user).filter(key=key).exists():
            raise Http404("记录不存在或无权访问")
        back = _safe_next(request, reverse("admin:dedup_dedupgroup_changelist"))
        if request.method == "POST":
            try:
                actions.split(key, request.user)
            except actions.DecisionError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已将 {key} 移出{member.group.name}")
            return HttpResponseRedirect(back)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "member": member,
                   "next": back, "title": "移出一件事档案"}
        return TemplateResponse(request, "dedup/split.html", context)


class SettingsForm(forms.ModelForm):
    class Meta:
        model = DedupSettings
        fields = list(DedupSettings.META_FIELDS)


@admin.register(DedupSettings)
class DedupSettingsAdmin(PreviewChangeFormMixin, MetaRecordAdmin):
    preview_invalid_message = "参数有误，请按提示修改后再试算"
    form = SettingsForm
    list_display = ["name", "same_threshold", "similar_threshold", "same_window_days", "similar_window_days",
                    "updated_at", "origin_state"]
    change_form_template = "dedup/settings_change_form.html"

    def has_add_permission(self, request):
        return not DedupSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def preview(self, request, instance):
        from extensions.dedup.conf import Conf

        return preview.run(request.user, Conf.from_record(instance))
