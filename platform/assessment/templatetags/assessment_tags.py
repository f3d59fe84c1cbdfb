from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def num(value):
    """A figure for display: — for no value, integers without decimals, else two decimals."""
    if value is None or value == "":
        return "—"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return value
    return f"{v:.0f}" if v == int(v) else f"{v:.2f}"
