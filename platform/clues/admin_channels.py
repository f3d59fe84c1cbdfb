"""数据来源 (channels) in the admin: the district administrator configures each outside channel's
scheduled pull — the address, the header that carries the credential and the name of the
server environment variable that holds it (the secret itself is never stored or shown; the
screen only says whether the variable is set) — switches a channel on or off, sees where its
pulls stand (已拉取至, last run, result, problem, last batch) and can start a pull at once
(「立即拉取」, a background task; the result is an 归集批次 of origin 定时拉取).

Channels come with their readers in code (clues/sources): no add or delete here."""
from __future__ import annotations

import os
import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from clues import tasks
from clues.models import Channel, PullState
from lowcode.admin import CustomisedFilter, MetaRecordAdmin

PULL_TASK = "clues.tasks.pull_channel"
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")


class ChannelForm(forms.ModelForm):
    pull_url = forms.URLField(label="拉取地址", required=False, max_length=500, assume_scheme="https",
                              help_text="留空表示不定时拉取")

    class Meta:
        model = Channel
        fields = ["name", "pull_url", "auth_header", "auth_env", "enabled", "sort"]

    def clean_pull_url(self):
        url = self.cleaned_data["pull_url"].strip()
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("拉取地址应以 http:// 或 https:// 开头")
        return url

    def clean_auth_header(self):
        value = self.cleaned_data["auth_header"].strip()
        if value and not HEADER_NAME.match(value):
            raise forms.ValidationError("认证头名称只能包含字母、数字和连字符，例：Authorization、X-Api-Token")
        return value

    def clean_auth_env(self):
        value = self.cleaned_data["auth_env"].strip()
        if value and not ENV_NAME.match(value):
            raise forms.ValidationError("环境变量名只能包含大写字母、数字和下划线（不以数字开头），例：INGEST_12345_TOKEN。"
                                        "请填写变量名，不要填写密钥本身")
        return value

    def clean(self):
        data = super().clean()
        header, env = data.get("auth_header"), data.get("auth_env")
        if bool(header) != bool(env) and "auth_header" not in self.errors and "auth_env" not in self.errors:
            raise forms.ValidationError("认证头名称与认证值环境变量需同时填写（或都不填）")
        return data


@admin.register(Channel)
class ChannelAdmin(MetaRecordAdmin):
    form = ChannelForm
    change_form_template = "clues/channel_change_form.html"
    list_display = ["name", "kind", "enabled", "pull_address", "pull_status", "pulled_until", "last_problem"]
    list_filter = ["kind", "enabled", CustomisedFilter]
    list_select_related = ["pull_state"]
    fieldsets = [
        (None, {"fields": ["key", "name", "kind", "enabled", "sort"]}),
        ("定时拉取", {"fields": ["pull_url", "auth_header", "auth_env", "credential_state"],
                  "description": "每 15 分钟按拉取地址分页获取新增/变更记录（since、page 参数，JSON Lines）。"
                                 "密钥不保存在系统中：由运维在服务器上设置环境变量，这里只填变量名。"}),
        ("拉取情况", {"fields": ["pulled_until", "last_run", "pull_status", "last_problem", "last_batch"]}),
        ("出厂与本地", {"fields": ["origin_state", "shipped_diff"]}),
    ]
    readonly_fields = ["key", "kind", "credential_state", "pulled_until", "last_run", "pull_status",
                       "last_problem", "last_batch", *MetaRecordAdmin.readonly_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @staticmethod
    def _state(obj) -> PullState | None:
        try:
            return obj.pull_state
        except PullState.DoesNotExist:
            return None

    @admin.display(description="拉取地址")
    def pull_address(self, obj):
        return obj.pull_url or "—（不拉取）"

    @admin.display(description="认证值")
    def credential_state(self, obj):
        if not obj.auth_env:
            return "不需要认证"
        return (f"环境变量 {obj.auth_env} 已设置" if os.environ.get(obj.auth_env)
                else f"环境变量 {obj.auth_env} 未设置：拉取时将无法认证")

    @admin.display(description="已拉取至")
    def pulled_until(self, obj):
        state = self._state(obj)
        return state.since if state and state.since else "—"

    @admin.display(description="最近拉取")
    def last_run(self, obj):
        state = self._state(obj)
        return state.last_run_at if state and state.last_run_at else "—"

    @admin.display(description="最近结果")
    def pull_status(self, obj):
        state = self._state(obj)
        if state is None or not state.last_status:
            return "—"
        return state.get_last_status_display() + ("（进行中）" if state.running_since else "")

    @admin.display(description="最近问题")
    def last_problem(self, obj):
        state = self._state(obj)
        return state.last_error if state and state.last_error else "—"

    @admin.display(description="最近批次")
    def last_batch(self, obj):
        state = self._state(obj)
        if state is None or state.last_batch_id is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:clues_ingestbatch_change", args=[state.last_batch_id]),
                           state.last_batch)

    # -- 立即拉取 ------------------------------------------------------------------------------
    def get_urls(self):
        return [path("<path:object_id>/pull/", self.admin_site.admin_view(self.pull_view),
                     name="clues_channel_pull"), *super().get_urls()]

    def pull_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = self.get_object(request, object_id)
        if channel is None:
            raise Http404("数据来源不存在")
        if not self.has_change_permission(request, channel):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:clues_channel_change", args=[channel.pk]))
        if not channel.pull_url or not channel.enabled:
            messages.error(request, "该来源未启用或没有拉取地址，无法拉取")
            return back
        if not tasks.enqueue(PULL_TASK, channel.key, name=f"立即拉取 {channel.key}"):
            messages.error(request, "无法提交后台任务（任务队列不可用），请稍后再试")
        else:
            messages.success(request, f"已提交「{channel.name}」的拉取任务，完成后本页“拉取情况”会更新。")
        return back
