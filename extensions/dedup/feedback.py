"""Staff verdicts as labels: every pair a mediator confirmed or rejected is a label of the
model's verdict on the district's own data. ``precision_table`` reports, per verdict kind
(同一案件 / 同人不同案 / 同案不同人) and channel pair, how many of the decided pairs staff
confirmed — the precision of what the model proposed, as staff see it. Read-only."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

KIND_LABELS = {"same": "同一案件", "similar:同人不同案": "同人不同案", "similar:同案不同人": "同案不同人",
               "similar": "相似案件"}


@dataclass
class Row:
    kind: str
    channels: str
    confirmed: int = 0
    rejected: int = 0

    @property
    def decided(self) -> int:
        return self.confirmed + self.rejected

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


def verdict_kind(verdict: str, reasons) -> str:
    if verdict != "similar":
        return verdict
    first = (reasons or [""])[0]
    return f"similar:{first}" if first in ("同人不同案", "同案不同人") else "similar"


def _channel(key: str, channels: dict[str, str]) -> str:
    return channels.get(key) or key.split(":", 1)[0]


def labels(since: dt.datetime | None = None):
    """(a_key, b_key, verdict kind, label) of every decided pair; label True = staff confirmed."""
    from extensions.dedup.models import Pair

    qs = Pair.objects.filter(status__in=("confirmed", "rejected"))
    if since is not None:
        qs = qs.filter(decided_at__gte=since)
    for a, b, verdict, reasons, status in qs.values_list("a_key", "b_key", "verdict", "reasons", "status").iterator(
            chunk_size=5000):
        yield a, b, verdict_kind(verdict, reasons), status == "confirmed"


def precision_table(since: dt.datetime | None = None) -> list[Row]:
    """Rows per (verdict kind, channel pair), then one total row per verdict kind (channels "合计")."""
    from extensions.dedup.models import Signature

    decided = list(labels(since))
    keys = {k for a, b, _, _ in decided for k in (a, b)}
    channels: dict[str, str] = {}
    kl = sorted(keys)
    for i in range(0, len(kl), 2000):
        channels.update(Signature.objects.filter(key__in=kl[i:i + 2000]).values_list("key", "channel"))
    rows: dict[tuple[str, str], Row] = {}
    totals: dict[str, Row] = defaultdict(lambda: Row("", "合计"))
    for a, b, kind, ok in decided:
        pair = " ~ ".join(sorted((_channel(a, channels), _channel(b, channels))))
        row = rows.setdefault((kind, pair), Row(kind, pair))
        total = totals[kind]
        total.kind = kind
        if ok:
            row.confirmed += 1
            total.confirmed += 1
        else:
            row.rejected += 1
            total.rejected += 1
    order = list(KIND_LABELS)
    out = sorted(rows.values(), key=lambda r: (order.index(r.kind) if r.kind in order else 9, -r.decided, r.channels))
    return out + sorted(totals.values(), key=lambda r: order.index(r.kind) if r.kind in order else 9)
