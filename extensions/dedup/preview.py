"""试算: what unsaved settings would hold on the most recent records the user may see, next to
what the current settings hold — counts and the pairs whose verdict would change."""
from __future__ import annotations

from extensions.dedup import engine
from extensions.dedup.conf import Conf

SAMPLE = 300
EXAMPLES = 10
LABELS = {"same": "同一案件", "similar": "相似案件", None: "不相关"}


def _verdicts(sample: list[dict], conf: Conf) -> dict[tuple[str, str], tuple]:
    found = {}
    for sig in sample:
        cands = engine.load_signatures(engine.candidates(sig, conf, self_id=sig["id"]))
        found.update(engine.score_against(sig, cands, conf))
    return found


def run(user, conf: Conf, current: Conf | None = None) -> dict:
    from extensions.dedup.admin import visible_signatures

    current = current or engine.current_conf()
    visible = visible_signatures(user)
    ids = list(visible.order_by("-reported_at", "-id").values_list("id", flat=True)[:SAMPLE])
    sample = list(engine.load_signatures(ids).values())
    new = _verdicts(sample, conf)
    old = _verdicts(sample, current)
    partners = {k for pair in (*new, *old) for k in pair}
    allowed = set(visible.filter(key__in=partners).values_list("key", flat=True))
    new = {k: v for k, v in new.items() if k[0] in allowed and k[1] in allowed}
    old = {k: v for k, v in old.items() if k[0] in allowed and k[1] in allowed}

    def count(found, verdict):
        return sum(1 for v in found.values() if v[0] == verdict)

    changed = []
    for pair in sorted(set(new) | set(old)):
        a, b = (old.get(pair) or (None,))[0], (new.get(pair) or (None,))[0]
        if a != b:
            info = new.get(pair) or old.get(pair)
            changed.append({"a": pair[0], "b": pair[1], "before": LABELS[a], "after": LABELS[b],
                            "score": info[1], "reasons": "、".join(info[2])})
    return {"sample": len(sample), "same": count(new, "same"), "similar": count(new, "similar"),
            "same_now": count(old, "same"), "similar_now": count(old, "similar"),
            "changed": len(changed), "examples": changed[:EXAMPLES]}
