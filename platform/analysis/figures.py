"""Every figure of the analysis views as a table: ``{"title", "columns", "rows", "drill",
"chart"}`` — the page draws the chart from it, shows it as a table, exports it to Excel, and
``drill[i]`` is the query string of row i's cases in the drill-through list. Counts come from the
rollups (analysis.models, read through analysis.counts: months + edge days) where they exist; the
few live queries are bounded by the same indexed scope + period filters."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.db.models.functions import ExtractYear
from django.db.models.fields.json import KT
from django.utils import timezone

from accounts import roles
from analysis import counts, datacache, sources
from analysis.derive import AGE_BANDS, SEX_LABELS
from analysis.filters import FilterError, Filters
from analysis.models import HelpDaily, PartyRef
from analysis.rollup import DAYS_BANDS

ROLLUP_DIMS = {"case_type": "案件类型", "mediation_type": "调解类型", "source": "案件来源", "status": "案件状态"}
LEVEL_LABELS = {1: "区级", 2: "街道级", 3: "社区级", 4: "网格级"}


# --- vocabulary ------------------------------------------------------------------------------
def _states():
    from cases import states

    v = states.vocabulary()
    try:
        dispatched = states.decided_state("dispatch", "approve")
    except LookupError:
        dispatched = "dispatched"
    return {"closed": set(v.closed), "open": set(v.open), "mediating": set(states.mediating_states()),
            "dispatched": {dispatched}, "success": set(states.success_outcomes())}


def kpis() -> dict:
    """KPI code → (label, Q on the fields CaseDaily and Case share, the same test in Python on
    (status, source, level) for the grouped rollup rows)."""
    from orgs.models import Region

    s = _states()
    lvl = Region.CASE_LEVEL
    return {
        "registered": ("登记案件", Q(), lambda st, so, lv: True),
        "aggregated": ("汇聚案件", ~Q(source="local"), lambda st, so, lv: so != "local"),
        "mediating": ("调解中", Q(status__in=s["mediating"]), lambda st, so, lv: st in s["mediating"]),
        "resolved": ("已办结", Q(status__in=s["closed"]), lambda st, so, lv: st in s["closed"]),
        "unresolved": ("未办结", Q(status__in=s["open"]), lambda st, so, lv: st in s["open"]),
        "escalated": ("已提级", Q(level__lt=lvl), lambda st, so, lv: lv < lvl),
        "dispatched": ("已发单", Q(status__in=s["dispatched"]), lambda st, so, lv: st in s["dispatched"]),
    }


def dimensions() -> dict[str, tuple[str, str | None, bool]]:
    """Dimension code → (label, dictionary, in the rollup). Every FieldDef of the case with a
    dictionary is one — a field a business admin adds appears here without code."""
    from lowcode import registry

    out = {}
    for code, spec in registry.get_meta("case").fields.items():
        if spec.dictionary and code != "tags":
            out[code] = (spec.label, spec.dictionary, code in ROLLUP_DIMS)
    out.setdefault("level", ("处理层级", None, True))
    return out


def labels_for(dim: str) -> dict:
    from lowcode import registry

    if dim == "level":
        return LEVEL_LABELS
    info = dimensions().get(dim)
    if dim == "tags":
        info = ("案件标签", "case_tag", False)
    if not info or not info[1]:
        return {}
    try:
        return {code: entry.label for code, entry in registry.get_dictionary(info[1]).items()}
    except Exception:  # noqa: BLE001 — a dictionary gone missing: show the codes
        return {}


# --- helpers ---------------------------------------------------------------------------------
def _rate(part, whole) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _pct(v) -> str:
    return "—" if v is None else f"{v}%"


def _live_cases(f: Filters, previous: bool = False):
    from cases.models import Case

    start, end = f.bounds(previous)
    qs = Case.objects.filter(registered_at__gte=start, registered_at__lt=end)
    return qs.filter(region_path__startswith=f.prefix) if f.prefix else qs


def _grouped(f: Filters, previous: bool):
    """The period's rollup grouped by (status, source, level, outcome): a few hundred rows that
    every KPI is computed from in Python (one query instead of one per figure)."""
    return counts.rows("case", f, ("status", "source", "level", "outcome"), ("n", "days_sum"), previous)


def overview(f: Filters) -> dict:
    rows, drill = [], []
    s = _states()
    groups = [_grouped(f, False), _grouped(f, True)]
    for code, (label, _q, test) in kpis().items():
        a, b = (sum(n for st, so, lv, oc, n, d in g if test(st, so, lv)) for g in groups)
        rows.append([label, a, b, a - b])
        drill.append(f.query(kpi=code))
    now = timezone.now()
    od = [_live_cases(f, p).filter(status__in=s["open"], deadline__lt=now).count() for p in (False, True)]
    rows.append(["超期案件", od[0], od[1], od[0] - od[1]])
    drill.append(f.query(kpi="overdue"))
    res = [sum(n for st, so, lv, oc, n, d in g if oc) for g in groups]
    ok = [sum(n for st, so, lv, oc, n, d in g if oc in s["success"]) for g in groups]
    days = [sum(d or 0 for st, so, lv, oc, n, d in g if oc) for g in groups]
    rate = [_rate(ok[i], res[i]) for i in (0, 1)]
    rows.append(["调解成功率(%)", rate[0], rate[1], None if None in rate else round(rate[0] - rate[1], 1)])
    drill.append(f.query(kpi="success"))
    avg = [round(days[i] / res[i], 1) if res[i] else None for i in (0, 1)]
    rows.append(["平均办理天数", avg[0], avg[1], None if None in avg else round(avg[0] - avg[1], 1)])
    drill.append(f.query(kpi="with_result"))
    colours = sources.measure("warning_colours")
    if colours is not None:
        for key, label, colour, count in colours(_live_cases(f)):
            rows.append([f"预警·{label}", count, None, None])
            drill.append(f.query(warning=key))
    return {"title": "概况", "columns": ["指标", f"本期（{f.label}）", f"上期（{f.prev_label}）", "变化"],
            "rows": rows, "drill": drill, "chart": "kpi"}


def _granularity(f: Filters) -> str:
    return "day" if f.days <= 62 else "month"


def trend(f: Filters) -> dict:
    gran = _granularity(f)
    ks = kpis()
    series = {}
    for previous in (False, True):
        start = f.prev_start if previous else f.start
        per = defaultdict(Counter)
        closed = _states()["closed"]
        for day, status, source, n in counts.rows("case", f, ("day", "status", "source"), previous=previous,
                                                  by_day=gran == "day"):
            idx = (day - start).days if gran == "day" else (day.year - start.year) * 12 + day.month - start.month
            per[idx]["registered"] += n
            if status in closed:
                per[idx]["resolved"] += n
            if source != "local":
                per[idx]["aggregated"] += n
        series[previous] = per
    length = f.days if gran == "day" else (f.end.year - f.start.year) * 12 + f.end.month - f.start.month + 1
    rows, drill = [], []
    for i in range(length):
        if gran == "day":
            d = f.start + dt.timedelta(days=i)
            label, s_, e_ = d.strftime("%m-%d"), d, d
        else:
            y, m = divmod(f.start.month - 1 + i, 12)
            s_ = dt.date(f.start.year + y, m + 1, 1)
            e_ = min((s_ + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), f.end)
            s_ = max(s_, f.start)
            label = s_.strftime("%Y-%m")
        c, p = series[False].get(i, Counter()), series[True].get(i, Counter())
        rows.append([label, c["registered"], c["resolved"], c["aggregated"], p["registered"]])
        drill.append(f.query(range="custom", start=s_.isoformat(), end=e_.isoformat()))
    return {"title": "案件趋势（本期与上期）", "columns": ["时间", "登记", "办结", "汇聚", "上期登记"],
            "rows": rows, "drill": drill, "chart": "line", "kpis": list(ks)}


def dim(f: Filters, code: str) -> dict:
    dims = dimensions()
    if code not in dims:
        raise FilterError(f"分析维度“{code[:30]}”不存在")
    label, _dictionary, in_rollup = dims[code]
    names = labels_for(code)
    if in_rollup:
        cur, prev = (dict(counts.rows("case", f, (code,), previous=p)) for p in (False, True))
    else:  # a field a business admin added (extra JSON): counted live over the period
        cur, prev = ({k or "": n for k, n in _live_cases(f, p).annotate(v=KT(f"extra__{code}")).order_by()
                      .values_list("v").annotate(n=Count("id"))} for p in (False, True))
    keys = sorted(set(cur) | set(prev), key=lambda k: (-cur.get(k, 0), str(k)))
    rows = [[names.get(k, k if k not in ("", None) else "（未填）"), cur.get(k, 0), prev.get(k, 0)] for k in keys]
    drill = [f.query(dim=code, value="" if k is None else k) for k in keys]
    return {"title": f"高发{label}" if code == "case_type" else f"按{label}", "columns": [label, "本期", "上期"],
            "rows": rows, "drill": drill, "chart": "bar"}


def region(f: Filters) -> dict:
    """Counts per child of the selected region (per street for the district, per community for
    a street …), ranked."""
    from orgs.models import Region

    depth = f.prefix.count("/")
    children = {r.path: r for r in Region.objects.filter(path__startswith=f.prefix)} if f.prefix else \
        {r.path: r for r in Region.objects.all()}
    cur, prev = Counter(), Counter()
    for target, previous in ((cur, False), (prev, True)):
        for path, n in counts.rows("case", f, ("region_path",), previous=previous):
            parts = path.split("/")
            key = "/".join(parts[:depth + 1]) + "/" if len(parts) > depth + 1 else path
            target[key] += n
    keys = sorted(set(cur) | set(prev), key=lambda k: -cur[k])
    rows = [[children[k].name if k in children else k, cur[k], prev[k]] for k in keys]
    drill = [f.query(region=children[k].pk) if k in children else "" for k in keys]
    return {"title": "高发区域", "columns": ["区域", "本期", "上期"], "rows": rows, "drill": drill, "chart": "bar"}


def tags(f: Filters) -> dict:
    names = labels_for("tags")
    cur, prev = (dict(counts.rows("tag", f, ("tag",), previous=p)) for p in (False, True))
    keys = sorted(set(cur) | set(prev), key=lambda k: -cur.get(k, 0))
    return {"title": "高发标签", "columns": ["标签", "本期", "上期"],
            "rows": [[names.get(k, k), cur.get(k, 0), prev.get(k, 0)] for k in keys],
            "drill": [f.query(dim="tags", value=k) for k in keys], "chart": "bar"}


def people(f: Filters) -> dict:
    """高发人群: parties by age band and sex (people), organisations; repeat parties."""
    grid = Counter()
    orgs = 0
    for kind, band, sex, n in counts.rows("party", f, ("party_kind", "age_band", "sex")):
        if kind != "person":
            orgs += n
        else:
            grid[(band or "未知", SEX_LABELS.get(sex, "未知"))] += n
    bands = [label for _, label in AGE_BANDS] + ["未知"]
    rows = [[b, grid[(b, "男")], grid[(b, "女")], grid[(b, "未知")]] for b in bands]
    drill = [f.query(dim="age_band", value=b) for b in bands]
    rows.append(["单位/组织", None, None, orgs])
    drill.append(f.query(dim="party_kind", value="org"))
    repeat = datacache.cached("repeat_parties", [f.start, f.end, f.prefix], lambda: _repeat_parties(f))
    rows.append(["重复涉案当事人（人）", None, None, repeat])
    drill.append(f.query(kpi="repeat_parties"))
    return {"title": "高发人群", "columns": ["年龄段", "男", "女", "未知/合计"], "rows": rows, "drill": drill,
            "chart": "stack"}


def _repeat_parties(f: Filters) -> int:
    refs = PartyRef.objects.filter(day__gte=f.start, day__lte=f.end)
    if f.prefix:
        refs = refs.filter(region_path__startswith=f.prefix)
    # more than one case: min ≠ max hashes where count(DISTINCT) would sort
    return refs.order_by().values("bidx").annotate(lo=Min("case_id"), hi=Max("case_id")).filter(lo__lt=F("hi")).count()


def effect(f: Filters) -> dict:
    """调解成效: success rate and on-time rate by level and by mediation type; handling time bands."""
    s = _states()
    rows, drill = [], []
    with_result = ~Q(outcome="")
    names = labels_for("mediation_type")
    for field, label_of, title in (("level", LEVEL_LABELS, "层级"), ("mediation_type", names, "调解类型")):
        agg = defaultdict(lambda: [0, 0, 0])
        for key, outcome, n, on_time in counts.rows("case", f, (field, "outcome"), ("n", "on_time"), where=with_result):
            a = agg[key]
            a[0] += n
            a[1] += n if outcome in s["success"] else 0
            a[2] += on_time
        for key in sorted(agg, key=str):
            n, ok, on_time = agg[key]
            rows.append([f"{title}·{label_of.get(key, key) or '（未填）'}", n, _rate(ok, n), _rate(on_time, n)])
            drill.append(f.query(dim=field, value=key, kpi="with_result"))
    bands = dict(counts.rows("case", f, ("days_band",), where=with_result))
    for _, band in DAYS_BANDS:
        rows.append([f"用时·{band}", bands.get(band, 0), None, None])
        drill.append(f.query(dim="days_band", value=band, kpi="with_result"))
    return {"title": "调解成效", "columns": ["分组", "有结果案件", "成功率(%)", "按期率(%)"], "rows": rows,
            "drill": drill, "chart": "bar"}


def communities(f: Filters) -> dict:
    """区域特征 per community: volume, mix (top type), success rate, unresolved, mediators on
    hand and their load (open cases per mediator)."""
    from accounts.models import User
    from orgs.models import Region

    s = _states()
    comms = Region.objects.filter(level=Region.CASE_LEVEL)
    if f.prefix:
        comms = comms.filter(path__startswith=f.prefix)
    comms = {r.path: r for r in comms[:500]}
    stats = defaultdict(lambda: {"n": 0, "res": 0, "ok": 0, "open": 0, "types": Counter()})
    for path, ctype, status, outcome, n in counts.rows("case", f, ("region_path", "case_type", "status", "outcome")):
        key = next((p for p in comms if path.startswith(p)), None)
        if key is None:
            continue
        st = stats[key]
        st["n"] += n
        st["types"][ctype] += n
        if outcome:
            st["res"] += n
            st["ok"] += n if outcome in s["success"] else 0
        if status in s["open"]:
            st["open"] += n
    mediators = Counter()
    for path in User.objects.filter(roles.holders("mediator"), is_active=True, region__isnull=False).distinct().values_list(
            "region__path", flat=True):
        key = next((p for p in comms if path.startswith(p)), None)
        if key:
            mediators[key] += 1
    names = labels_for("case_type")
    rows, drill = [], []
    for key in sorted(comms, key=lambda k: -stats[k]["n"]):
        st = stats[key]
        top = st["types"].most_common(1)
        m = mediators[key]
        rows.append([comms[key].name, st["n"], names.get(top[0][0], top[0][0]) if top else "—", _rate(st["ok"], st["res"]),
                     st["open"], m, round(st["open"] / m, 1) if m else None])
        drill.append(f.query(region=comms[key].pk))
    return {"title": "区域特征（社区）", "columns": ["社区", "案件数", "主要类型", "成功率(%)", "未办结", "调解员", "人均在办"],
            "rows": rows, "drill": drill, "chart": "bar"}


def help_requests(f: Filters) -> dict:
    """求助分析: escalation and dispatch requests — volume, approval rate, time to decision,
    success after help; by kind. One grouped query over HelpDaily (analysis.rollup)."""
    from cases.models import HelpRequest

    hr = HelpDaily.objects.filter(day__gte=f.start, day__lte=f.end)
    if f.prefix:
        hr = hr.filter(region_path__startswith=f.prefix)
    s = _states()
    per_kind = defaultdict(lambda: [0, 0, 0, 0, 0.0, 0, 0])  # n, decided, approved, waited, hours, res, ok
    by_type = Counter()
    for kind, ctype, outcome, *sums in hr.order_by().values_list("kind", "case_type", "outcome").annotate(
            Sum("n"), Sum("decided"), Sum("approved"), Sum("waited"), Sum("wait_hours")):
        acc = per_kind[kind]
        for i, v in enumerate(sums):
            acc[i] += v or 0
        if outcome:
            acc[5] += sums[0]
            acc[6] += sums[0] if outcome in s["success"] else 0
        by_type[ctype] += sums[0]
    rows, drill = [], []
    for kind, label in HelpRequest.KINDS:
        n, d_n, approved, waited, hours, res, ok = per_kind[kind]
        rows.append([label, n, _rate(approved, d_n), round(hours / waited, 1) if waited else None, _rate(ok, res)])
        drill.append(f.query(kpi=f"help_{kind}"))
    names = labels_for("case_type")
    for code, n in by_type.most_common(10):
        rows.append([f"类型·{names.get(code, code)}", n, None, None, None])
        drill.append(f.query(kpi="help_any", dim="case_type", value=code))
    return {"title": "求助分析", "columns": ["分组", "求助数", "批准率(%)", "平均审批用时(小时)", "求助后成功率(%)"],
            "rows": rows, "drill": drill, "chart": "bar"}


# --- drill-through ---------------------------------------------------------------------------
def drill_cases(f: Filters, params) -> "QuerySet":  # noqa: F821
    """The live cases behind a figure: the same period, region and dimension value."""
    from cases.models import Case

    qs = _live_cases(f)
    kpi = params.get("kpi") or ""
    code = params.get("dim") or ""
    value = params.get("value", "")
    ks = kpis()
    s = _states()
    if kpi in ks:
        qs = qs.filter(ks[kpi][1])
    elif kpi == "overdue":
        qs = qs.filter(status__in=s["open"], deadline__lt=timezone.now())
    elif kpi == "success":
        qs = qs.filter(result__outcome__in=s["success"])
    elif kpi == "with_result":
        qs = qs.filter(result__isnull=False)
    elif kpi == "repeat_parties":
        from cases.models import Party

        bidx = (Party.objects.filter(case__in=_live_cases(f)).exclude(id_number_bidx="").order_by()
                .values("id_number_bidx").annotate(c=Count("case_id", distinct=True)).filter(c__gt=1)
                .values("id_number_bidx"))
        qs = qs.filter(parties__id_number_bidx__in=bidx).distinct()
    elif kpi.startswith("help_"):
        kind = kpi[5:]
        qs = qs.filter(help_requests__isnull=False) if kind == "any" else qs.filter(help_requests__kind=kind)
        qs = qs.distinct()
    elif kpi:
        raise FilterError(f"指标“{kpi[:30]}”不存在")
    if code:
        if code == "tags":
            qs = qs.filter(tags__icontains=f'"{value}"')
        elif code == "party_kind":
            qs = qs.filter(parties__party_kind=value).distinct()
        elif code == "age_band":
            qs = _with_age_band(qs, value)
        elif code == "days_band":
            qs = _with_days_band(qs, value)
        elif code == "level":
            if not (str(value).isascii() and str(value).isdigit()) or len(str(value)) > 2:
                raise FilterError("处理层级参数无效")
            qs = qs.filter(level=int(value))
        elif code in dimensions():
            qs = qs.filter(**{code: value}) if dimensions()[code][2] else qs.filter(**{f"extra__{code}": value})
        else:
            raise FilterError(f"分析维度“{code[:30]}”不存在")
    warning = params.get("warning")
    if warning:
        qs = qs.filter(warning__level=warning) if hasattr(Case, "warning") else qs.none()
    return qs


def _with_age_band(qs, label: str):
    """Cases with a person of that age when the case was registered (as the rollup counts them)."""
    if label == "未知":
        return qs.filter(parties__party_kind="person", parties__birth_year__isnull=True).distinct()
    lowers = [lower for lower, _ in AGE_BANDS]
    names = [name for _, name in AGE_BANDS]
    if label not in names:
        raise FilterError(f"年龄段“{str(label)[:20]}”不存在")
    i = names.index(label)
    year = ExtractYear("registered_at")
    born = {"parties__party_kind": "person", "parties__birth_year__lte": year - lowers[i]}
    if i + 1 < len(lowers):
        born["parties__birth_year__gt"] = year - lowers[i + 1]
    return qs.filter(**born).distinct()  # one filter(): the same party meets every condition


def _with_days_band(qs, label: str):
    """Cases whose result came that many days after registration (the rollup's 用时 bands)."""
    bounds = [bound for bound, _ in DAYS_BANDS]
    names = [name for _, name in DAYS_BANDS]
    if label not in names:
        raise FilterError(f"用时区间“{str(label)[:20]}”不存在")
    i = names.index(label)
    qs = qs.filter(result__submitted_at__isnull=False).annotate(
        took=ExpressionWrapper(F("result__submitted_at") - F("registered_at"), output_field=DurationField()))
    if bounds[i] is not None:
        qs = qs.filter(took__lte=dt.timedelta(days=bounds[i]))
    if i > 0:
        qs = qs.filter(took__gt=dt.timedelta(days=bounds[i - 1]))
    return qs


# --- map -------------------------------------------------------------------------------------
MAP_POINTS = 3000


def map_data(f: Filters, params) -> dict:
    """Markers (the latest MAP_POINTS cases with coordinates, coloured by warning) and the heat
    layer (every case of the period, counted per region centre)."""
    from orgs.models import Region

    qs = drill_cases(f, params).exclude(lng__isnull=True)
    points = list(qs.order_by("-registered_at").values_list("pk", "exchange_id", "title", "lng", "lat", "case_type")
                  [:MAP_POINTS])
    colours = sources.measure("case_colours")
    colour_of = colours([p[0] for p in points]) if colours else {}
    names = labels_for("case_type")
    markers = [{"id": pk, "no": no, "title": title[:60], "lng": lng, "lat": lat, "type": names.get(ct, ct),
                "warning": colour_of.get(pk, ("", ""))[0], "color": colour_of.get(pk, ("", ""))[1]}
               for pk, no, title, lng, lat, ct in points]
    centres = {r.pk: (r.lng, r.lat, r.name, r.path) for r in Region.objects.exclude(lng__isnull=True)}
    heat, total = [], 0
    for region_id, n in counts.rows("case", f, ("region_id",)):  # per region: the heat and, summed, the total
        total += n
        if region_id in centres:
            heat.append([centres[region_id][1], centres[region_id][0], n])
    labels = [{"name": name, "lng": lng, "lat": lat, "id": pk} for pk, (lng, lat, name, path) in centres.items()
              if path.startswith(f.prefix)][:300]
    return {"markers": markers, "heat": heat, "labels": labels, "total": total, "shown": len(markers),
            "limit": MAP_POINTS}
