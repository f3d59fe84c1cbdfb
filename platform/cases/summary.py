"""What a reader of a case must see first, above everything else on the PC detail and the H5 case
page: the warning colour and its reasons, the same-case / similar verdicts, the 一件事档案.

Extensions fill the UI slot ``cases.detail_summary`` with callables ``(request, case) -> [Flag, …]``
(they apply the user's scope themselves); both ends render the flags with their own markup."""
from __future__ import annotations

from dataclasses import dataclass, field

SLOT = "cases.detail_summary"


@dataclass(frozen=True)
class Flag:
    title: str                 # 预警等级, 同一案件, 相似案件, 一件事档案
    text: str                  # 红色预警, 已确认 2 条 · 待确认 1 条
    color: str = ""            # CSS colour of the badge ("" = neutral)
    reasons: tuple[str, ...] = field(default_factory=tuple)  # why (Chinese, short)
    anchor: str = ""           # where the full panel is on the page ("" = none)


def flags_for(request, case) -> list[Flag]:
    from lowcode import slots

    out: list[Flag] = []
    for provider in slots.items(SLOT):
        out.extend(provider(request, case) or [])
    return out
