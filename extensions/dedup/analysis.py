"""The duplicate model's relations for the 数字档案 (platform/analysis reads them through
``analysis.sources.register_relations``): 同人同案 (records held to be the same dispute, every
channel), 同人不同案 (similar records sharing a party) and 同案不同人 (similar matter and place,
other parties). Only the cases the user may see."""
from __future__ import annotations


def relations(user, case) -> list[tuple[str, list]]:
    from cases.models import Case, Party

    from extensions.dedup import api

    def rows(refs):
        refs = [r for r in api.visible_refs(user, refs) if r.kind == "case"]
        by_pk = {c.pk: c for c in Case.objects.filter(pk__in=[r.pk for r in refs])}
        return [(by_pk[r.pk], f"{r.channel} · 相似度 {r.score:.2f}" + ("（已确认）" if r.confirmed else ""))
                for r in refs if r.pk in by_pk]

    same = rows(api.same_records("case", case.pk))
    similar = rows(api.similar_records("case", case.pk))
    mine = set(Party.objects.filter(case=case).exclude(id_number_bidx="").values_list("id_number_bidx", flat=True))
    shared = set(Party.objects.filter(case_id__in=[c.pk for c, _ in similar], id_number_bidx__in=mine)
                 .values_list("case_id", flat=True)) if mine else set()
    return [("同人同案（同一纠纷的各渠道记录）", same),
            ("同人不同案", [(c, n) for c, n in similar if c.pk in shared]),
            ("同案不同人", [(c, n) for c, n in similar if c.pk not in shared])]


def register() -> None:
    from analysis import sources

    sources.register_relations(relations)
