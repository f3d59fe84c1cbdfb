"""Third-party accounts log in on the admin login page like everybody else; their admin index
is the third-party workbench (/tp/), not an empty admin page. Installed once, after the other
apps' admin modules (cases.admin replaces the index with the staff workbench)."""
from __future__ import annotations

from django.contrib import admin
from django.shortcuts import redirect

from dispatch.scope import is_third_party
from partners.access import PC_PERM


def install(site) -> None:
    if getattr(site, "_thirdparty_index_installed", False):
        return
    inner = site.index

    def index(request, extra_context=None):
        # the function right first: its permission cache is loaded for the admin menu anyway, so
        # staff pay no extra query (is_third_party reads the user's organisation)
        if request.user.has_perm(PC_PERM) and is_third_party(request.user):
            return redirect("thirdparty:home")
        return inner(request, extra_context)

    site.index = index
    site._thirdparty_index_installed = True


install(admin.site)
