"""``{% login_links "pc" as links %}``: the other ways in that apps put under a login form (slot
``accounts.login_links``) — each filler answers for the end ("pc" or "h5") with (label, url) pairs."""
from django import template

from lowcode import slots

register = template.Library()


@register.simple_tag(takes_context=True)
def login_links(context, end: str):
    request = context.get("request")
    return [link for filler in slots.items("accounts.login_links") for link in filler(request, end)]
