"""``{% watermark %}``: the watermark layer for the logged-in user (secure/page_assets.html)."""
from django import template

from secure import watermark as wm

register = template.Library()


@register.simple_tag(takes_context=True)
def watermark(context) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    return wm.render(user) if user is not None and user.is_authenticated else ""
