"""``{% idle_timeout_script %}``: the idle-timeout warning script for an authenticated page, its
settings passed as data attributes (no inline script, CSP-friendly)."""
from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from accounts import policy

register = template.Library()
WARN_SECONDS = 120  # the warning shows two minutes before the session expires


@register.simple_tag(takes_context=True)
def idle_timeout_script(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return format_html('<script src="{}" data-idle-seconds="{}" data-warn-seconds="{}" '
                       'data-keepalive-url="{}" defer></script>',
                       static("mdtj/idle-timeout.js"), policy.idle_seconds(), WARN_SECONDS,
                       reverse("accounts:keepalive"))
