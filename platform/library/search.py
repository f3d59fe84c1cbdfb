"""调解案例 / 问答 search: jieba tokens in plain tables (SearchDoc, SearchToken), ranked by BM25.

No backend full-text search: the same ORM queries run on SQLite, PostgreSQL and Dameng. A query
is tokenised like the documents; the document frequencies of its tokens come from the index (one
grouped query), very common tokens are dropped when rarer ones exist (they rank nothing and cost
the most), and one grouped query sums token weight × idf per document, best first.

Only anonymised text reaches the index (library.anonymise.scrub with the case's parties)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case as When_, Count, F, FloatField, Q, Sum, Value, When
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from library.models import SearchDoc, SearchToken

TITLE_BOOST = 2
K1, B, AVG_LEN = 1.2, 0.75, 80.0
MAX_QUERY_TOKENS = 16
COMMON_SHARE = 0.3          # a token in more than this share of documents is dropped when rarer ones exist
TYPICAL_BOOST = 1.15        # curated typical cases come slightly before closed cases of equal relevance
STOP = {"一个", "没有", "我们", "他们", "你们", "这个", "那个", "就是", "因为", "所以", "但是", "如果", "已经",
        "可以", "进行", "某处", "某某", "请填写", "情况", "问题", "什么", "怎么", "如何", "哪些"}
_WORD = re.compile(r"^[\w\u4e00-\u9fff]+$")
_jieba = None


def _cutter():
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba


def tokens(text: str) -> list[str]:
    """Search tokens of ``text`` (with repeats): jieba's search mode, words of two characters or
    more (and numbers), lower-cased, stop words out."""
    if not text:
        return []
    out = []
    for tok in _cutter().cut_for_search(text):
        tok = tok.strip().lower()
        if len(tok) < 2 or len(tok) > 32 or tok in STOP or not _WORD.match(tok):
            continue
        out.append(tok)
    return out


def query_tokens(text: str) -> list[str]:
    seen = list(dict.fromkeys(tokens(text)))
    return seen[:MAX_QUERY_TOKENS]


# --- indexing --------------------------------------------------------------------------------------
def _weights(title: str, body: str) -> tuple[dict[str, float], int]:
    counts: dict[str, int] = {}
    for tok in tokens(title):
        counts[tok] = counts.get(tok, 0) + TITLE_BOOST
    for tok in tokens(body):
        counts[tok] = counts.get(tok, 0) + 1
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / AVG_LEN)
    return {tok: round(tf * (K1 + 1) / (tf + norm), 4) for tok, tf in counts.items()}, length


def doc_rows(kind: str, ref_id: int, *, title: str, body: str, region_path: str = "", case_type: str = "",
             mediation_type: str = "", tags=(), summary: str = "") -> tuple[SearchDoc, list[SearchToken]]:
    weights, length = _weights(title, body)
    doc = SearchDoc(kind=kind, ref_id=ref_id, region_path=region_path, case_type=case_type or "",
                    mediation_type=mediation_type or "", tags="|" + "|".join(tags) + "|" if tags else "",
                    title=title[:200], summary=(summary or body)[:500], length=length)
    rows = [SearchToken(token=tok, kind=kind, region_path=region_path, weight=w) for tok, w in weights.items()]
    return doc, rows


def put(kind: str, ref_id: int, **fields) -> SearchDoc:
    doc, rows = doc_rows(kind, ref_id, **fields)
    with transaction.atomic():
        remove(kind, [ref_id])
        doc.save()
        for row in rows:
            row.doc = doc
        SearchToken.objects.bulk_create(rows, batch_size=1000)
    return doc


def remove(kind: str, ref_ids) -> None:
    docs = SearchDoc.objects.filter(kind=kind, ref_id__in=list(ref_ids))
    SearchToken.objects.filter(doc__in=docs).delete()
    docs.delete()


def bulk_put(items: list[tuple[str, int, dict]]) -> int:
    """Many documents at once (rebuilds, benchmarks): two bulk inserts per batch."""
    docs, token_lists = [], []
    for kind, ref_id, fields in items:
        doc, rows = doc_rows(kind, ref_id, **fields)
        docs.append(doc)
        token_lists.append(rows)
    with transaction.atomic():
        SearchDoc.objects.bulk_create(docs, batch_size=1000)
        if any(d.pk is None for d in docs):  # backends that return no ids
            found = {(d.kind, d.ref_id): d.pk for d in SearchDoc.objects.filter(
                ref_id__in=[d.ref_id for d in docs]).only("pk", "kind", "ref_id")}
            for d in docs:
                d.pk = found[(d.kind, d.ref_id)]
        rows = []
        for doc, doc_tokens in zip(docs, token_lists):
            for row in doc_tokens:
                row.doc_id = doc.pk
                rows.append(row)
        SearchToken.objects.bulk_create(rows, batch_size=2000)
    return len(docs)


# --- querying --------------------------------------------------------------------------------------
@dataclass
class Hit:
    doc: SearchDoc
    score: float
    matched: list[str]


def visible_q(user, kinds) -> Q:
    """Typical cases and Q&A: every user of the library; closed cases: the user's region subtree."""
    from accounts.scope import region_prefix

    q = Q(kind__in=[k for k in kinds if k != "case"])
    if "case" in kinds:
        if user.is_superuser:
            q |= Q(kind="case")
        else:
            prefix = region_prefix(user)
            if prefix:
                q |= Q(kind="case", region_path__startswith=prefix)
    return q


def search(text: str, user, *, kinds=("typical", "case"), case_type: str = "", mediation_type: str = "",
           tag: str = "", limit: int = 20, exclude: tuple[str, int] | None = None) -> list[Hit]:
    words = query_tokens(text)
    if not words:
        return []
    base = SearchToken.objects.filter(token__in=words, kind__in=list(kinds))
    df = dict(base.values("token").annotate(n=Count("id")).values_list("token", "n"))
    words = [w for w in words if df.get(w)]
    if not words:
        return []
    total = SearchDoc.objects.filter(kind__in=list(kinds)).count() or 1
    rare = [w for w in words if df[w] <= max(50, total * COMMON_SHARE)]
    if not rare:
        rare = sorted(words, key=lambda w: df[w])[:2]
    idf = {w: math.log(1 + (total - df[w] + 0.5) / (df[w] + 0.5)) for w in rare}
    rows = base.filter(token__in=rare).filter(visible_q(user, kinds))
    doc_filter = Q()
    if case_type:
        doc_filter &= Q(case_type=case_type) | Q(case_type__startswith=case_type + ".")
    if mediation_type:
        doc_filter &= Q(mediation_type=mediation_type)
    if tag:
        doc_filter &= Q(tags__contains=f"|{tag}|")
    if doc_filter:
        rows = rows.filter(doc__in=SearchDoc.objects.filter(doc_filter).values("pk"))
    if exclude is not None:
        rows = rows.exclude(doc__in=SearchDoc.objects.filter(kind=exclude[0], ref_id=exclude[1]).values("pk"))
    score = Sum(When_(*[When(token=w, then=F("weight") * Value(idf[w])) for w in rare],
                      default=Value(0.0), output_field=FloatField()))
    ranked = list(rows.values("doc_id").annotate(score=score).order_by("-score", "doc_id")[:limit * 2])
    docs = SearchDoc.objects.in_bulk([r["doc_id"] for r in ranked])
    matched: dict[int, list[str]] = {}
    for doc_id, tok in rows.filter(doc_id__in=list(docs)).values_list("doc_id", "token"):
        matched.setdefault(doc_id, []).append(tok)
    hits = [Hit(docs[r["doc_id"]], r["score"] * (TYPICAL_BOOST if docs[r["doc_id"]].kind == "typical" else 1),
                sorted(matched.get(r["doc_id"], []), key=len, reverse=True))
            for r in ranked if r["doc_id"] in docs]
    hits.sort(key=lambda h: (-h.score, h.doc.pk))
    return hits[:limit]


def highlight(text: str, words) -> str:
    """``text`` escaped, with every occurrence of ``words`` wrapped in <mark>."""
    escaped = str(conditional_escape(text or ""))
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return mark_safe(escaped)
    pattern = re.compile("|".join(re.escape(str(conditional_escape(w))) for w in words), re.IGNORECASE)
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))


# --- what goes in: typical cases, closed cases, Q&A ------------------------------------------------
def typical_fields(tc) -> dict:
    return {"title": tc.title, "body": "\n".join([tc.writeup, tc.method, tc.legal_basis]),
            "region_path": tc.region_path, "case_type": tc.case_type, "mediation_type": tc.mediation_type,
            "tags": tc.tags or (), "summary": tc.writeup[:300]}


def case_fields(case) -> dict:
    from library.anonymise import scrub

    parties = list(case.parties.all())
    result = getattr(case, "result", None)
    body = "\n".join([case.description or "", result.agreement if result is not None else ""])
    body = scrub(body, case, parties)
    return {"title": scrub(case.title, case, parties), "body": body, "region_path": case.region_path,
            "case_type": case.case_type, "mediation_type": case.mediation_type, "tags": case.tags or (),
            "summary": body[:300]}


def qa_fields(entry) -> dict:
    return {"title": entry.question + " " + entry.synonyms.replace("、", " ").replace(",", " ").replace("，", " "),
            "body": entry.answer, "case_type": str(entry.category_id), "summary": entry.answer[:300]}


def index_typical(tc) -> None:
    if tc.status == "approved":
        put("typical", tc.pk, **typical_fields(tc))
    else:
        remove("typical", [tc.pk])


def index_case(case) -> None:
    """A closed case is searchable until it enters the library: then its typical case (curated,
    edited) stands for it, once."""
    from cases import states
    from library.models import TypicalCase

    if states.is_closed(case) and not TypicalCase.objects.filter(case_id=case.pk, status="approved").exists():
        put("case", case.pk, **case_fields(case))
    else:
        remove("case", [case.pk])


def index_qa(entry) -> None:
    if entry.enabled:
        put("qa", entry.pk, **qa_fields(entry))
    else:
        remove("qa", [entry.pk])


def on_cases_changed(kind: str, ids, **_):
    if kind != "case":
        return
    from cases.models import Case

    cases = list(Case.objects.filter(pk__in=list(ids)).select_related("result").prefetch_related("parties"))
    index_cases(cases, gone=set(ids) - {c.pk for c in cases})


def index_cases(cases, gone=()) -> None:
    """``index_case`` for many cases (an ingest chunk): one removal and one bulk insert in all —
    one by one it cost ≈ 20 ms a case, most of the library's share of an ingest task."""
    from cases import states
    from library.models import TypicalCase

    closed = [c for c in cases if states.is_closed(c)]
    curated = set(TypicalCase.objects.filter(case_id__in=[c.pk for c in closed], status="approved")
                  .values_list("case_id", flat=True)) if closed else set()
    with transaction.atomic():
        remove("case", [c.pk for c in cases] + list(gone))
        bulk_put([("case", c.pk, case_fields(c)) for c in closed if c.pk not in curated])


def on_cases_deleted(kind: str, ids, **_):
    if kind == "case":
        remove("case", list(ids))


def rebuild(kinds=("typical", "case", "qa"), batch: int = 1000) -> dict[str, int]:
    """Drop and rebuild the index of ``kinds`` (command ``rebuild_library_index``)."""
    from cases import states
    from cases.models import Case
    from library.models import QAEntry, TypicalCase

    counts = {}
    for kind in kinds:
        remove_all = SearchDoc.objects.filter(kind=kind)
        SearchToken.objects.filter(kind=kind).delete()
        remove_all.delete()
        items: list = []
        if kind == "typical":
            source = ((tc.pk, typical_fields(tc)) for tc in TypicalCase.objects.filter(status="approved").iterator())
        elif kind == "case":
            qs = Case.objects.filter(status__in=states.closed_states()).exclude(typical_proposals__status="approved") \
                .select_related("result") \
                .prefetch_related("parties").order_by("pk")
            source = ((c.pk, case_fields(c)) for c in qs.iterator(chunk_size=batch))
        else:
            source = ((e.pk, qa_fields(e)) for e in QAEntry.objects.filter(enabled=True).iterator())
        n = 0
        for pk, fields in source:
            items.append((kind, pk, fields))
            if len(items) >= batch:
                n += bulk_put(items)
                items = []
        if items:
            n += bulk_put(items)
        counts[kind] = n
    return counts


def on_qa_saved(sender, instance, **_):
    index_qa(instance)


def on_qa_deleted(sender, instance, **_):
    remove("qa", [instance.pk])


def on_ingested(case_ids=(), **_):
    """An ingest chunk's aggregated cases (closed ones enter the index), queued like the models'."""
    if case_ids:
        on_cases_changed("case", list(case_ids))
