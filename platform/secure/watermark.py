"""The on-screen watermark ([M-6.1], 等保 screen-leak tracing): who is looking and when.

A tile — the user's name, account and the page's time, faint and tilted — is drawn as an SVG
and set, as a ``data:`` URL, as the repeating background of one fixed, click-through layer over
the whole page. The server renders it (no JavaScript needed: it is in every screenshot and,
with ``print-color-adjust: exact``, on every printed sheet); ``static/mdtj/watermark.js`` only
puts it back when it is removed or restyled in the browser."""
from __future__ import annotations

import base64
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.html import format_html

ELEMENT_ID = "mdtj-wm"
TILE_W, TILE_H = 340, 210
FONT = "'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif"

# Every property !important in the style attribute: an injected stylesheet cannot hide it
# (an element's own !important declarations win over any selector's).
LAYER_STYLE = ";".join(f"{prop}:{value}!important" for prop, value in (
    ("position", "fixed"), ("top", "0"), ("left", "0"), ("width", "100%"), ("height", "100%"),
    ("margin", "0"), ("padding", "0"), ("border", "0"),
    ("display", "block"), ("visibility", "visible"), ("opacity", "1"),
    ("z-index", "2147483647"), ("pointer-events", "none"),
    ("background-repeat", "repeat"), ("background-position", "0 0"),
    ("-webkit-print-color-adjust", "exact"), ("print-color-adjust", "exact"),
))


def who(user) -> tuple[str, str]:
    """(display name, account) of a user."""
    name = (getattr(user, "display_name", "") or user.get_full_name() or user.username).strip()
    return name, user.get_username()


def tile_svg(name: str, account: str, when: str) -> str:
    lines = [f"{name}（{account}）" if name != account else account, when]
    texts = "".join(f'<text x="{TILE_W // 2}" y="{TILE_H // 2 - 4 + 22 * i}">{escape(line)}</text>'
                    for i, line in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{TILE_W}" height="{TILE_H}">'
            f'<g transform="rotate(-22 {TILE_W // 2} {TILE_H // 2})" fill="#808080" fill-opacity="0.17" '
            f'font-size="15" font-family="{escape(FONT)}" text-anchor="middle">{texts}</g></svg>')


def render(user, now=None) -> str:
    """The watermark layer for a logged-in user (HTML, safe)."""
    name, account = who(user)
    when = timezone.localtime(now or timezone.now()).strftime("%Y-%m-%d %H:%M")
    svg = base64.b64encode(tile_svg(name, account, when).encode("utf-8")).decode("ascii")
    style = f"{LAYER_STYLE};background-image:url('data:image/svg+xml;base64,{svg}')!important"
    return format_html('<div id="{}" aria-hidden="true" data-wm-user="{}" data-wm-account="{}" '
                       'data-wm-time="{}" style="{}"></div>', ELEMENT_ID, name, account, when, style)
