"""The missed and wrong pairs of the TUNING set (``evalset``), with what the model saw — to find
the anchors it fails to read. Only the tuning generator: the held-out one (``evalset2``) is for
reporting, never for looking at its misses (issue 19).

    PYTHONPATH=platform .venv/bin/python -m extensions.dedup.misses [--seed 11] [--disputes 3000] [--kind similar] [--fp] [--limit 40]

Each line: the labelled verdict, what the model said (score, reasons), whether the pair was a
candidate at all (blocking), and both records' anchors (channel, type, place keys, employers,
amounts, parties, text). A summary counts the misses by cause and channel pair.
"""
from __future__ import annotations

import argparse
from collections import Counter

from extensions.dedup import evalset, features, score


def _short(sig: dict, rec: dict) -> str:
    parties = ",".join("/".join(x for x in (p["n"] or p["s"], "id" if p["i"] else "", "ph" if p["p"] else "",
                                            p["t"] and "t") if x) for p in sig["parties"])
    return (f"{sig['channel']}|{sig['case_type'] or '-'}|d{sig['day']}|pl={[x for x in sig['places'] if x]}"
            f"|sa={sig.get('address_id') or ''}|em={sig['employers']}|am={sig['amounts']}|p={parties}\n"
            f"      {rec['title']!r} {rec['text']!r} @ {rec['address']!r}")


def candidates(sigs: list[dict], conf) -> set[tuple[str, str]]:
    """The pairs the in-memory blocking of ``evalset.predict`` scores (the same generator)."""
    return {tuple(sorted((sigs[i]["key"], sigs[j]["key"]))) for i, j in evalset.candidate_pairs(sigs, conf)}


def misses(seed: int, disputes: int, conf, kind: str, false_positives: bool):
    """[(labelled, predicted, candidate, score, reasons, sig_a, sig_b, rec_a, rec_b)]."""
    recs, labels = evalset.generate(seed, disputes)
    sigs = [features.build(r, conf) for r in recs]
    by_key = {s["key"]: (s, r) for s, r in zip(sigs, recs)}
    pred = evalset.predict(recs, conf)
    cand = candidates(sigs, conf)
    if false_positives:
        pairs = [k for k, v in pred.items() if v == kind and labels.get(k) != kind]
    else:
        pairs = [k for k, v in labels.items() if v == kind and pred.get(k) != kind]
    out = []
    for a, b in sorted(pairs):
        (sa, ra), (sb, rb) = by_key[a], by_key[b]
        verdict, value, reasons = score.compare(sa, sb, conf)
        out.append((labels.get((a, b)), pred.get((a, b)), (a, b) in cand, value, reasons, sa, sb, ra, rb))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--disputes", type=int, default=3000)
    ap.add_argument("--kind", default="similar", choices=("same", "similar"))
    ap.add_argument("--fp", action="store_true", help="wrong verdicts instead of missed ones")
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--same-threshold", type=float, default=0.5)
    ap.add_argument("--similar-threshold", type=float, default=0.5)
    args = ap.parse_args()
    from extensions.dedup.conf import Conf

    conf = Conf.from_shipped(same_threshold=args.same_threshold, similar_threshold=args.similar_threshold)
    rows = misses(args.seed, args.disputes, conf, args.kind, args.fp)
    causes, pairs = Counter(), Counter()
    for labelled, predicted, cand, value, reasons, sa, sb, ra, rb in rows:
        cause = "not a candidate" if not cand else f"said {predicted or 'none'}"
        causes[cause] += 1
        pairs["/".join(sorted((sa["channel"], sb["channel"])))] += 1
    print(f"{len(rows)} {'wrong' if args.fp else 'missed'} {args.kind} pairs (tuning set, seed {args.seed}): "
          + ", ".join(f"{k} {v}" for k, v in causes.most_common()))
    print("  by channel pair: " + ", ".join(f"{k} {v}" for k, v in pairs.most_common(12)))
    for labelled, predicted, cand, value, reasons, sa, sb, ra, rb in rows[:args.limit]:
        print(f"- label={labelled} predicted={predicted} candidate={cand} score={value} {reasons}")
        print("    A " + _short(sa, ra))
        print("    B " + _short(sb, rb))


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    main()
