"""Who may open the third-party screens. Rows are never decided here: every query goes through
``dispatch.scope`` (orders, bids, vouchers) or ``accounts.scope`` (granted cases). This only
turns away users who are not third-party accounts (403 in Chinese), sends anonymous users to the
right login page, and hands the view the user's organisation."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from dispatch.scope import is_org_admin, third_party_org

PC_PERM = "thirdparty.use_tp_pc"
H5_PERM = "thirdparty.use_tp_h5"


def _guard(login_url: str, denied, admin_only: bool, perm: str):
    """``denied(request, reason)`` renders the end's 403 page."""
    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse(login_url))
            org = third_party_org(user)
            if org is None:
                return denied(request, "本功能仅供第三方调解组织的账号使用")
            if not user.has_perm(perm):
                return denied(request, "您的账号未开通此功能")
            if admin_only and not is_org_admin(user):
                return denied(request, "本页面仅供第三方调解组织管理员使用")
            request.tp_org = org
            request.tp_admin = is_org_admin(user)
            return view(request, *args, **kwargs)
        return wrapper
    return decorate


def _pc_denied(request, reason: str):
    return render(request, "thirdparty/pc/denied.html", pc_context(request, title="无权访问", reason=reason),
                  status=403)


def _m_denied(request, reason: str):
    return render(request, "thirdparty/m/denied.html", {"reason": reason}, status=403)


def pc(view=None, *, admin_only: bool = False):
    """PC end (登录 at the admin login page)."""
    decorate = _guard("admin:login", _pc_denied, admin_only, PC_PERM)
    return decorate(view) if view is not None else decorate


def m(view):
    """H5 end (its own phone login page)."""
    return _guard("thirdparty:m_login", _m_denied, False, H5_PERM)(view)


# --- the PC page frame: the admin's base template with jazzmin's menu ----------------------------
NAV = [  # (url name, label, org admin only)
    ("thirdparty:home", "工作台", False),
    ("thirdparty:org", "组织信息", False),
    ("thirdparty:mediators", "调解员管理", True),
    ("thirdparty:pool", "竞单中心", False),
    ("thirdparty:bids", "报名记录", False),
    ("thirdparty:cases", "调解中心", False),
    ("thirdparty:statements", "对账中心", True),
    ("thirdparty:analysis", "调解分析", True),
]


def pc_context(request, **extra) -> dict:
    from django.contrib import admin

    current = getattr(request.resolver_match, "view_name", "") if request.resolver_match else ""
    member = third_party_org(request.user) is not None
    admin_user = member and is_org_admin(request.user)
    nav = [{"url": reverse(name), "label": label, "active": current == name}
           for name, label, only_admin in NAV if member and (admin_user or not only_admin)]
    return {**admin.site.each_context(request), "tp_nav": nav, "tp_org": getattr(request, "tp_org", None),
            **extra}
