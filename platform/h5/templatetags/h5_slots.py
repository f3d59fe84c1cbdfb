"""``{% slot_panels "h5.me_panels" %}``: the HTML cards other apps put into an H5 screen's UI slot
(lowcode.slots); each filler gets the request and applies the user's scope itself."""
from django import template
from django.utils.html import format_html_join

from lowcode import slots

register = template.Library()


@register.simple_tag(takes_context=True)
def slot_panels(context, name: str):
    request = context.get("request")
    return format_html_join("", "{}", ((panel(request),) for panel in slots.items(name)))
