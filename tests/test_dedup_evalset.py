"""The labelled evaluation set and the model on it (a small seed here; tests/perf/bench_dedup.py
reports the full figures): a regression in the decision or the blocking shows up as lost F1."""
from __future__ import annotations

from extensions.dedup import evalset
from extensions.dedup.conf import Conf


def test_generator_labels_all_three_situations_and_is_repeatable():
    recs, labels = evalset.generate(7, 300)
    kinds = set(labels.values())
    assert kinds == {"same", "similar"}
    assert len({r["channel"] for r in recs}) == 8
    again, labels2 = evalset.generate(7, 300)
    assert [r["text"] for r in again] == [r["text"] for r in recs] and labels2 == labels
    # dirt is there: masked phones and 某/先生 names
    phones = [p["phone"] for r in recs for p in r["parties"]]
    assert any("*" in p for p in phones) and any(not p for p in phones)
    assert any(not p["known"] and p["surname"] for r in recs for p in r["parties"])


def test_model_quality_on_a_small_seed_stays_near_the_targets():
    recs, labels = evalset.generate(7, 600)
    res = evalset.evaluate(evalset.predict(recs, Conf.from_shipped()), labels)
    assert res["same"]["f1"] >= 0.95, res
    assert res["similar"]["f1"] >= 0.8, res


def test_the_bulk_shortcut_gives_exactly_the_full_comparisons_verdicts():
    """score.compare without explain_none (rebuild, ingest, evaluation) skips pairs that cannot
    reach a threshold: every pair must still get the very verdict and score of the full path."""
    from extensions.dedup import features, score

    conf = Conf.from_shipped()
    recs, _ = evalset.generate(9, 120)
    sigs = [features.build(r, conf) for r in recs]
    seen = set()
    for i, a in enumerate(sigs):
        for b in sigs[i + 1:]:
            full = score.compare(a, b, conf)
            quick = score.compare(a, b, conf, explain_none=False)
            assert quick[:2] == full[:2], (a["key"], b["key"], full, quick)
            if quick[0]:
                assert quick[2] == full[2]
            seen.add(full[0])
    assert seen == {None, "same", "similar"}
