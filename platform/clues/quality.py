"""数据质量: per channel and month — records, rejection rate and reasons, field completeness,
address match rate, type-mapping misses — as aggregate queries, with drill-down URLs (query
strings for the raw-record and rejection lists).

The period is the ingest time (batches by started_at, raw records by first_seen), not the
events' own time: this page judges what each channel delivered in a month.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from urllib.parse import urlencode

from django import forms
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from clues.models import Clue, IngestBatch, RawRecord, Rejection

TOP = 5
MATCHED = ("exact", "building", "road")
QUALITY_LABELS = dict(Clue.ADDRESS_QUALITY)


def _month_start(d: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime(d.year, d.month, 1))


def _next_month(start: dt.datetime) -> dt.datetime:
    y, m = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return timezone.make_aware(dt.datetime(y, m, 1))


def months(limit: int = 36) -> list[str]:
    """"YYYY-MM" from the first batch to this month, newest first."""
    first = IngestBatch.objects.order_by("started_at").values_list("started_at", flat=True).first()
    now = timezone.localtime()
    start = timezone.localtime(first) if first else now
    out, y, m = [], now.year, now.month
    while (y, m) >= (start.year, start.month) and len(out) < limit:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


class PeriodForm(forms.Form):
    month = forms.ChoiceField(label="月份", required=False)

    def __init__(self, *args, months: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [("", "全部时间")] + [(m, m.replace("-", " 年 ") + " 月") for m in months]
        self.fields["month"].widget.attrs["class"] = "form-select"

    def period(self) -> tuple[dt.datetime, dt.datetime] | None:
        value = self.cleaned_data.get("month") or ""
        if not value:
            return None
        start = _month_start(dt.date(int(value[:4]), int(value[5:7]), 1))
        return start, _next_month(start)


def _share(n: int, total: int) -> float | None:
    return round(100.0 * n / total, 1) if total else None


def channel_quality(channel, month, scope_raw, user) -> dict:
    """Everything the quality page shows for one channel. ``scope_raw(queryset)`` narrows raw
    records to the user's scope."""
    batches = IngestBatch.objects.filter(channel=channel)
    rejections = Rejection.objects.filter(batch__channel=channel)
    raws = RawRecord.objects.filter(channel=channel)
    period_q: dict = {}
    rej_period: dict = {}
    if month is not None:
        start, end = month
        batches = batches.filter(started_at__gte=start, started_at__lt=end)
        rejections = rejections.filter(batch__started_at__gte=start, batch__started_at__lt=end)
        raws = raws.filter(first_seen__gte=start, first_seen__lt=end)
        period_q = {"first_seen__gte": start.isoformat(), "first_seen__lt": end.isoformat()}
        rej_period = {"batch__started_at__gte": start.isoformat(), "batch__started_at__lt": end.isoformat()}
    raws = scope_raw(raws)

    def raw_link(**extra) -> str:
        return "?" + urlencode({"channel__key__exact": channel.key, **period_q, **extra})

    def rej_link(**extra) -> str:
        return "?" + urlencode({"batch__channel__key__exact": channel.key, **rej_period, **extra})

    totals = batches.aggregate(read=Sum("read"), rejected=Sum("rejected"), n=Count("pk"))
    read, rejected = totals["read"] or 0, totals["rejected"] or 0
    reasons = [{"reason": r["reason"], "n": r["n"], "url": rej_link(reason=r["reason"])}
               for r in rejections.values("reason").annotate(n=Count("pk")).order_by("-n", "reason")[:TOP]]

    counts = raws.aggregate(records=Count("pk"), errors=Count("pk", filter=~Q(clean_error="")),
                            missed=Count("pk", filter=Q(clean_error="", type_missed=True)))
    ok = raws.filter(clean_error="")
    good = counts["records"] - counts["errors"]
    by_quality = dict(ok.values_list("address_quality").annotate(n=Count("pk")).values_list("address_quality", "n"))
    address = [{"code": code, "label": QUALITY_LABELS[code], "n": by_quality.get(code, 0),
                "share": _share(by_quality.get(code, 0), good), "url": raw_link(clean="ok", address_quality=code)}
               for code in QUALITY_LABELS]
    matched = sum(by_quality.get(code, 0) for code in MATCHED)

    completeness, labels = _completeness(channel, ok)
    return {
        "channel": channel, "batches": totals["n"], "read": read, "rejected": rejected,
        "rejection_rate": _share(rejected, read), "reasons": reasons,
        "rejections_url": rej_link(),
        "records": counts["records"], "errors": counts["errors"], "good": good,
        "records_url": raw_link(), "errors_url": raw_link(clean="error"),
        "address": address, "match_rate": _share(matched, good),
        "type_missed": counts["missed"], "type_missed_share": _share(counts["missed"], good),
        "type_missed_url": raw_link(clean="ok", type_missed__exact="1"), "missed_labels": labels,
        "completeness": completeness,
    }


def _completeness(channel, ok_raws) -> tuple[list[dict], list[tuple[str, int]]]:
    """Share of the clean records (clues or cases) with time, person, phone, type, address; and
    the top unmapped source type labels."""
    from cases.models import Case, Party
    from clues.models import ClueParty

    if channel.kind == "event":
        qs = Clue.objects.filter(raw__in=ok_raws.values("pk"))
        party = ClueParty.objects.filter(clue=OuterRef("pk"))
        phone_q = ~Q(phone_bidx="") | ~Q(phone_masked="")
        type_q = ~Q(type_code="") & Q(raw__type_missed=False)
    else:
        qs = Case.objects.filter(raw_records__in=ok_raws.values("pk"))
        party = Party.objects.filter(case=OuterRef("pk"))
        phone_q = ~Q(phone_bidx="")
        type_q = ~Q(case_type="") & Q(raw_records__type_missed=False)
    qs = qs.annotate(has_person=Exists(party), has_phone=Exists(party.filter(phone_q)))
    agg = qs.aggregate(total=Count("pk", distinct=True),
                       time=Count("pk", filter=Q(occurred_at__isnull=False), distinct=True),
                       person=Count("pk", filter=Q(has_person=True), distinct=True),
                       phone=Count("pk", filter=Q(has_phone=True), distinct=True),
                       type=Count("pk", filter=type_q, distinct=True),
                       address=Count("pk", filter=~Q(address=""), distinct=True))
    total = agg["total"]
    names = [("time", "时间"), ("person", "人员"), ("phone", "电话"), ("type", "类型"), ("address", "地址")]
    completeness = [{"field": label, "n": agg[code], "share": _share(agg[code], total), "total": total}
                    for code, label in names]
    if channel.kind == "event":
        labels = list(Clue.objects.filter(raw__in=ok_raws.filter(type_missed=True).values("pk"))
                      .values_list("type_label").annotate(n=Count("pk")).order_by("-n", "type_label")[:TOP])
        labels = [(lab or "（空）", n) for lab, n in labels]
    else:
        counter: Counter = Counter()
        for extra in Case.objects.filter(raw_records__in=ok_raws.filter(type_missed=True).values("pk")) \
                .values_list("extra", flat=True)[:20000]:
            counter[((extra or {}).get("aggregation") or {}).get("type_label") or "（空）"] += 1
        labels = counter.most_common(TOP)
    return completeness, labels
