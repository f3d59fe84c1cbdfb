"""Writing signatures and pairs: the incremental check of a few records (hooks, one chunk of an
ingest) and the rebuild from scratch (``dedup_rebuild``).

Candidates of one record: its blocking keys looked up in ``Block`` (index key, day) within the
similar-case window, one UNION ALL query with a per-key LIMIT — a key with more rows than the
limit (a stock text band, a very common name at one place) says nothing and is skipped. A
candidate must share a strong key (party, exact address, organisation) or two weak ones (door,
estate, MinHash band); those sharing most are scored (at most ``max_candidates``). A chunk of records (an
ingest chunk, a rebuild chunk) gets its candidates from one LATERAL query on PostgreSQL
(``chunk_candidates``); keys found hot there are remembered in ``HotKey``.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from typing import Iterable

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from extensions.dedup import features, records, score
from extensions.dedup.conf import Conf, get_settings
from extensions.dedup.models import COMMON_PATH_SQL, Block, Pair, Signature, common_path

logger = logging.getLogger(__name__)

HOT_KEY_LIMIT = 300  # rows of one blocking key within the window beyond which the key is ignored
SIG_FIELDS = ("id", "key", "kind", "obj_id", "channel", "region_path", "case_type", "reported_at", "day",
              "title", "parties", "address", "places", "address_id", "employers", "amounts", "shingles")


def current_conf() -> Conf:
    return Conf.from_record(get_settings())


# --- signatures -------------------------------------------------------------------------------
# a signature stored but whose pairs are not written yet (``refresh`` dates it when they are): a
# check that broke off in between is never taken for done by ``unchanged_keys``
UNCHECKED = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _sig_row(sig: dict, at=None) -> Signature:
    return Signature(**{k: v for k, v in sig.items() if k != "id"}, updated_at=at or timezone.now())


def store_signatures(sigs: list[dict], moved: set | None = None, at=None) -> dict[str, int]:
    """Replace the signatures (and their blocks) of these records; returns key → signature id.
    ``moved`` receives the keys whose region path changed (their pairs' scope must follow);
    ``at``: their computation time (default now)."""
    keys = [s["key"] for s in sigs]
    held = list(Signature.objects.filter(key__in=keys).values_list("id", "key", "region_path"))
    old = [i for i, _, _ in held]
    if moved is not None:
        new = {s["key"]: s["region_path"] or "" for s in sigs}
        moved.update(k for _, k, path in held if new.get(k, "") != path)
    if old:
        Block.objects.filter(sig_id__in=old).delete()
        Signature.objects.filter(id__in=old).delete()
    rows = Signature.objects.bulk_create([_sig_row(s, at) for s in sigs])
    if connection.vendor != "postgresql" or any(r.pk is None for r in rows):
        ids = dict(Signature.objects.filter(key__in=keys).values_list("key", "id"))
    else:
        ids = {r.key: r.pk for r in rows}
    Block.objects.bulk_create([Block(key=b, day=s["day"], sig_id=ids[s["key"]])
                               for s in sigs for b in features.blocks(s)], batch_size=5000)
    return ids


def candidates(sig: dict, conf: Conf, self_id: int | None = None) -> list[int]:
    """Signature ids sharing a blocking key with ``sig`` within the window, best first."""
    keys = features.blocks(sig)
    if not keys:
        return []
    window = max(conf.similar_window_days, conf.same_window_days)
    lo, hi = sig["day"] - window, sig["day"] + window
    table = Block._meta.db_table
    part = f"SELECT * FROM (SELECT key, sig_id FROM {table} WHERE key = %s AND day BETWEEN %s AND %s LIMIT {HOT_KEY_LIMIT + 1}) t"
    sql = " UNION ALL ".join([part] * len(keys))
    params = [p for k in keys for p in (k, lo, hi)]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    per_key = Counter(k for k, _ in rows)
    hot = {k for k, n in per_key.items() if n > HOT_KEY_LIMIT}
    weights = features.key_weights(sig)
    shared = Counter()
    for k, s in rows:
        if k not in hot and s != self_id:
            shared[s] += weights.get(k, 1)
    return [s for s, n in shared.most_common(conf.max_candidates) if n >= 2]


def chunk_candidates(sigs_by_id: dict[int, dict], conf: Conf, newer_only: bool = False,
                     remember_hot: bool = True) -> dict[int, list[int]]:
    """Candidates of many stored signatures in one query (PostgreSQL: a LATERAL index scan per
    blocking key with the hot-key LIMIT). Keys found hot are remembered in ``HotKey`` so they
    cost nothing next time (not by the rebuild: it marks hot keys once, up front, so that its
    result does not depend on the order of its chunks). ``newer_only`` keeps b > a (the rebuild
    scores each pair once)."""
    from extensions.dedup.models import HotKey

    sig_ids = list(sigs_by_id)
    if not sig_ids:
        return {}
    window = max(conf.similar_window_days, conf.same_window_days)
    bt, ht = Block._meta.db_table, HotKey._meta.db_table
    strong_a, strong_k, strong_w = [], [], []
    for a, sig in sigs_by_id.items():
        strong = sig.get("_strong")  # the rebuild's store carries them: [(key, weight)]
        for k, w in (features.key_weights(sig).items() if strong is None else strong):
            strong_a.append(a)
            strong_k.append(k)
            strong_w.append(w)
    # weighing and filtering happen in the database: only qualified pairs travel to Python
    sql = (f"WITH rows AS (SELECT a.sig_id AS a, a.key AS key, c.sig_id AS b FROM {bt} a CROSS JOIN LATERAL ("
           f"SELECT b.sig_id FROM {bt} b WHERE b.key = a.key AND b.day BETWEEN a.day - %s AND a.day + %s "
           f"LIMIT {HOT_KEY_LIMIT + 1}) c "
           f"WHERE a.sig_id = ANY(%s) AND NOT EXISTS (SELECT 1 FROM {ht} h WHERE h.key = a.key)), "
           f"hot AS (SELECT a, key FROM rows GROUP BY a, key HAVING count(*) > {HOT_KEY_LIMIT}), "
           f"strong AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) AS s(a, key, w)), "
           f"weighed AS (SELECT r.a, r.b, COALESCE(s.w, 1) AS w FROM rows r "
           f"LEFT JOIN strong s ON s.a = r.a AND s.key = r.key "
           f"WHERE r.b <> r.a {'AND r.b > r.a' if newer_only else ''} "
           f"AND NOT EXISTS (SELECT 1 FROM hot h WHERE h.a = r.a AND h.key = r.key)) "
           f"SELECT a, b, sum(w)::int, NULL::bigint FROM weighed GROUP BY a, b HAVING sum(w) >= 2 "
           f"UNION ALL SELECT NULL, NULL, NULL, key FROM (SELECT DISTINCT key FROM hot) x")
    with transaction.atomic(), connection.cursor() as cur:
        # JIT compilation costs ~100 ms per execution and buys nothing on index probes
        cur.execute("SET LOCAL jit = off")
        cur.execute(sql, [window, window, sig_ids, strong_a, strong_k, strong_w])
        rows = cur.fetchall()
    hot = {k for a, b, n, k in rows if k is not None}
    if hot and remember_hot:
        HotKey.objects.bulk_create([HotKey(key=k) for k in hot], ignore_conflicts=True)
    shared: dict[int, list] = {}
    for a, b, n, k in rows:
        if k is None:
            shared.setdefault(a, []).append((n, b))
    return {a: [b for n, b in sorted(pairs, key=lambda x: (-x[0], x[1]))[:conf.max_candidates]]
            for a, pairs in shared.items()}


def load_signatures(ids: Iterable[int]) -> dict[int, dict]:
    """Signature rows as dicts (raw SQL: this is on the path of every check)."""
    ids = list(ids)
    out = {}
    table = Signature._meta.db_table
    cols = ", ".join(SIG_FIELDS)
    json_cols = {"parties", "places", "employers", "amounts"}
    with connection.cursor() as cur:
        for i in range(0, len(ids), 2000):
            part = ids[i:i + 2000]
            cur.execute(f"SELECT {cols} FROM {table} WHERE id IN ({', '.join(['%s'] * len(part))})", part)
            for row in cur.fetchall():
                d = dict(zip(SIG_FIELDS, row))
                for c in json_cols:  # PostgreSQL's driver decodes jsonb; SQLite hands back text
                    if isinstance(d[c], str):
                        d[c] = json.loads(d[c])
                out[d["id"]] = d
    return out


# --- pairs ---------------------------------------------------------------------------------------
def ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def score_against(sig: dict, cands: dict[int, dict], conf: Conf) -> dict[tuple[str, str], tuple]:
    out = {}
    sh = set(sig["shingles"].split())
    for other in cands.values():
        if other["key"] == sig["key"]:
            continue
        verdict, value, reasons = score.compare(sig, other, conf, sh_a=sh, explain_none=False)
        if verdict:
            out[ordered(sig["key"], other["key"])] = (verdict, value, reasons)
    return out


def region_paths(keys) -> dict[str, str]:
    """key → region path of the stored signatures."""
    keys, out = list(keys), {}
    for i in range(0, len(keys), 2000):
        out.update(Signature.objects.filter(key__in=keys[i:i + 2000]).values_list("key", "region_path"))
    return out


def _scopes(pairs, regions: dict | None) -> dict[tuple[str, str], str]:
    """(a, b) → scope path; regions missing from ``regions`` are read from the signatures."""
    regions = dict(regions or {})
    missing = {k for ab in pairs for k in ab if k not in regions}
    if missing:
        regions.update(region_paths(missing))
    return {(a, b): common_path(regions.get(a) or "", regions.get(b) or "") for a, b in pairs}


def write_pairs(found: dict[tuple[str, str], tuple], touched: set[str], regions: dict | None = None) -> None:
    """Upsert ``found``; proposed pairs of ``touched`` keys that were not found again go away.
    Decided pairs (confirmed / rejected) keep their verdict and status. ``regions``: key → region
    path of the records at hand (others are read)."""
    now = timezone.now()
    scopes = _scopes(found, regions)
    existing = {}  # (a, b) → (pk, status, verdict): rows, not model instances (≈ 100 per record)
    tl = list(touched)
    for i in range(0, len(tl), 500):
        part = tl[i:i + 500]
        for pk, a, b, status, verdict in Pair.objects.filter(Q(a_key__in=part) | Q(b_key__in=part)).values_list(
                "pk", "a_key", "b_key", "status", "verdict"):
            existing[(a, b)] = (pk, status, verdict)
    create, update, stale = {}, [], []
    for (a, b), (verdict, value, reasons) in found.items():
        held = existing.pop((a, b), None)
        if held is None:
            create[(a, b)] = (verdict, value, reasons)
        elif held[1] == "proposed":
            update.append((held[0], verdict, value, reasons, now, scopes[(a, b)]))
        elif held[1] == "confirmed" and held[2] == verdict:
            update.append((held[0], verdict, value, reasons, now, scopes[(a, b)]))
    for (a, b), (pk, status, _) in existing.items():
        if status == "proposed":
            stale.append(pk)
    with transaction.atomic():
        if stale:
            Pair.objects.filter(pk__in=stale).delete()
        if update:
            _update_pairs(update)
        if create:
            insert_pairs(create, scopes=scopes)


UPDATE_COLUMNS = ("verdict", "score", "reasons", "updated_at", "scope_path")


def _update_pairs(update: list[tuple]) -> None:
    """Set verdict / score / reasons / updated_at / scope of held pairs, rows (pk, *UPDATE_COLUMNS)
    (PostgreSQL: COPY + one UPDATE … FROM; Django's bulk_update built a CASE per row — measured
    4 s of the 7.6 s re-check of 1,000 records)."""
    if connection.vendor != "postgresql":
        Pair.objects.bulk_update([Pair(pk=row[0], **dict(zip(UPDATE_COLUMNS, row[1:]))) for row in update],
                                 list(UPDATE_COLUMNS), batch_size=1000)
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE IF NOT EXISTS dedup_pair_up (id bigint, verdict varchar(8), "
                    "score double precision, reasons jsonb, updated_at timestamptz, scope_path varchar(255)) "
                    "ON COMMIT DELETE ROWS")
        cur.execute("TRUNCATE dedup_pair_up")  # no commit between two calls inside one transaction
        with cur.cursor.copy("COPY dedup_pair_up (id, verdict, score, reasons, updated_at, scope_path) "
                             "FROM STDIN") as cp:
            for pk, verdict, value, reasons, at, scope in update:
                cp.write_row((pk, verdict, value, json.dumps(reasons, ensure_ascii=False), at, scope))
        cur.execute(f"UPDATE {Pair._meta.db_table} p SET verdict = u.verdict, score = u.score, reasons = u.reasons, "
                    f"updated_at = u.updated_at, scope_path = u.scope_path FROM dedup_pair_up u WHERE p.id = u.id")


def insert_pairs(found: dict, regions: dict | None = None, scopes: dict | None = None) -> None:
    """New proposed pairs; a pair already held (confirmed / rejected by staff) stays as it is.
    PostgreSQL: COPY into a temporary table + INSERT … ON CONFLICT DO NOTHING (Django's bulk
    insert quoted the reasons arrays in Python: measured 2.6 s per 6,600 pairs). Scope: from
    ``scopes`` ((a, b) → path), else from ``regions`` (key → region path) and the signatures."""
    now = timezone.now()
    if scopes is None:
        scopes = _scopes(found, regions)
    if connection.vendor != "postgresql":
        Pair.objects.bulk_create([Pair(a_key=a, b_key=b, verdict=v, score=s, reasons=r, updated_at=now,
                                       scope_path=scopes[(a, b)])
                                  for (a, b), (v, s, r) in found.items()], batch_size=2000, ignore_conflicts=True)
        return
    t = Pair._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE IF NOT EXISTS dedup_pair_in (a_key varchar(100), b_key varchar(100), "
                    "verdict varchar(8), score double precision, reasons jsonb, scope_path varchar(255)) "
                    "ON COMMIT DELETE ROWS")
        cur.execute("TRUNCATE dedup_pair_in")  # no commit between two calls inside one transaction
        with cur.cursor.copy("COPY dedup_pair_in (a_key, b_key, verdict, score, reasons, scope_path) FROM STDIN") as cp:
            for (a, b), (v, s, r) in found.items():
                cp.write_row((a, b, v, s, json.dumps(r, ensure_ascii=False), scopes[(a, b)]))
        cur.execute(f"INSERT INTO {t} (a_key, b_key, verdict, score, reasons, status, updated_at, scope_path) "
                    f"SELECT a_key, b_key, verdict, score, reasons, 'proposed', %s, scope_path FROM dedup_pair_in "
                    f"ON CONFLICT (a_key, b_key) DO NOTHING", [now])


def update_scopes(keys: Iterable[str] | None = None, decided_only: bool = False) -> int:
    """Recompute ``scope_path`` from the signatures: of the pairs of ``keys`` (records that moved),
    or of every pair (``decided_only``: of the confirmed / rejected ones, which a rebuild keeps).
    Returns the pairs changed. A pair whose record has no signature is left as it is."""
    t, st = Pair._meta.db_table, Signature._meta.db_table
    keys = None if keys is None else list(keys)
    if keys is not None and not keys:
        return 0
    if connection.vendor == "postgresql":
        expr = COMMON_PATH_SQL % {"a": "sa.region_path", "b": "sb.region_path"}
        where, params = [], []
        if keys is not None:
            where.append("(p.a_key = ANY(%s) OR p.b_key = ANY(%s))")
            params += [keys, keys]
        if decided_only:
            where.append("p.status <> 'proposed'")
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {t} p SET scope_path = s.scope FROM (SELECT p.id, {expr} AS scope FROM {t} p "
                        f"JOIN {st} sa ON sa.key = p.a_key JOIN {st} sb ON sb.key = p.b_key "
                        f"{'WHERE ' + ' AND '.join(where) if where else ''}) s "
                        f"WHERE p.id = s.id AND p.scope_path <> s.scope", params)
            return cur.rowcount
    qs = Pair.objects.all()
    if decided_only:
        qs = qs.exclude(status="proposed")
    changed, last = 0, 0
    while True:  # chunks by id: constant memory
        part = qs.filter(pk__gt=last)
        if keys is not None:
            part = part.filter(Q(a_key__in=keys) | Q(b_key__in=keys))
        rows = list(part.order_by("pk").values_list("pk", "a_key", "b_key", "scope_path")[:2000])
        if not rows:
            return changed
        last = rows[-1][0]
        regions = region_paths({k for _, a, b, _ in rows for k in (a, b)})
        stale = [Pair(pk=pk, scope_path=common_path(regions[a], regions[b])) for pk, a, b, held in rows
                 if a in regions and b in regions and common_path(regions[a], regions[b]) != held]
        Pair.objects.bulk_update(stale, ["scope_path"], batch_size=1000)
        changed += len(stale)



# --- incremental --------------------------------------------------------------------------------
def unchanged_keys(sigs: list[dict], since) -> set[str]:
    """Keys of the records whose stored signature equals the one just built and was computed
    under the current settings (not before ``since``, their last change): their candidates and
    verdicts are what they were — a pair with a record that changed since was rechecked from that
    record's side."""
    stored = {}
    keys = [s["key"] for s in sigs]
    for i in range(0, len(keys), 2000):
        for row in Signature.objects.filter(key__in=keys[i:i + 2000]).values(*SIG_FIELDS[1:], "updated_at"):
            stored[row["key"]] = row
    same = set()
    for s in sigs:
        row = stored.get(s["key"])
        if row is not None and row["updated_at"] >= since and all(row[f] == s[f] for f in SIG_FIELDS[1:]):
            same.add(s["key"])
    return same


def refresh(kind: str, ids: Iterable[int], conf: Conf | None = None) -> int:
    """Recompute the signatures of these records and their pairs. Returns the records checked.
    Records whose signature did not change (an update of a field the model does not read, a
    re-sent record) are not searched again (``unchanged_keys``; with the settings record's conf
    only — a caller's own conf rechecks all)."""
    record = None
    if conf is None:
        record = get_settings()
        conf = Conf.from_record(record)
    recs = records.records(kind, ids)
    if not recs:
        return 0
    sigs = [features.build(r, conf) for r in recs]
    if record is not None:
        same = unchanged_keys(sigs, record.updated_at)
        sigs = [s for s in sigs if s["key"] not in same]
        if not sigs:
            return 0
    moved: set[str] = set()
    with transaction.atomic():
        ids_by_key = store_signatures(sigs, moved, at=UNCHECKED)
    regions = {s["key"]: s["region_path"] for s in sigs}
    found = {}
    if connection.vendor == "postgresql":  # one query for the whole chunk
        by_id = {ids_by_key[s["key"]]: s for s in sigs}
        cands = chunk_candidates(by_id, conf)
        loaded = load_signatures({b for bs in cands.values() for b in bs})
        regions.update({s["key"]: s["region_path"] for s in loaded.values()})
        for a, bs in cands.items():
            found.update(score_against(by_id[a], {b: loaded[b] for b in bs if b in loaded}, conf))
    else:
        for s in sigs:
            cand_ids = candidates(s, conf, self_id=ids_by_key.get(s["key"]))
            loaded = load_signatures(cand_ids)
            regions.update({c["key"]: c["region_path"] for c in loaded.values()})
            found.update(score_against(s, loaded, conf))
    write_pairs(found, {s["key"] for s in sigs}, regions)
    if moved:  # decided pairs not found again keep their row: their scope follows the record
        update_scopes(moved)
    if record is not None:  # checked: from now on an unchanged signature needs no search
        Signature.objects.filter(id__in=list(ids_by_key.values())).update(updated_at=timezone.now())
    return len(sigs)


def forget(kind: str, ids: Iterable[int]) -> None:
    """A case / clue was deleted: its signature, blocks and pairs go; its file membership too."""
    from extensions.dedup.models import GroupMember

    keys = list(Signature.objects.filter(kind=kind, obj_id__in=list(ids)).values_list("key", flat=True))
    if not keys:
        return
    with transaction.atomic():
        sig_ids = list(Signature.objects.filter(key__in=keys).values_list("id", flat=True))
        Block.objects.filter(sig_id__in=sig_ids).delete()
        Signature.objects.filter(id__in=sig_ids).delete()
        Pair.objects.filter(Q(a_key__in=keys) | Q(b_key__in=keys)).delete()
        GroupMember.objects.filter(key__in=keys).delete()


def check_one(sig: dict, conf: Conf) -> dict[tuple[str, str], tuple]:
    """Verdicts of one (new, unsaved) record against everything stored — the benchmarked path."""
    return score_against(sig, load_signatures(candidates(sig, conf)), conf)
