"""Demo data for the 研判 views (issue 13): synthetic centres for the demo regions (a fictional
district drawn around 120.15E 30.27N), the cases' coordinates (the address library where an
address matches, else spread around their community's centre so the map shows clusters), the
parties' derived birth years and sexes (bulk-created by the seed), and the rollups."""
from __future__ import annotations

import random


def seed_analysis() -> dict:
    from analysis import rollup
    from analysis.derive import fill_coordinates
    from cases.models import Case
    from orgs.models import Region

    rng = random.Random(13)
    regions = list(Region.objects.order_by("path"))
    streets = [r for r in regions if r.level == Region.Level.STREET]
    for r in regions:
        if r.lng is not None:
            continue
        if r.level == Region.Level.DISTRICT:
            r.lng, r.lat = 120.15, 30.27
        elif r.level == Region.Level.STREET:
            i = streets.index(r)
            r.lng, r.lat = 120.15 + 0.045 * (i % 4 - 1.5), 30.27 + 0.04 * (i // 4 - 1)
        else:
            parent = next(p for p in regions if p.pk == r.parent_id)
            r.lng, r.lat = parent.lng + rng.uniform(-0.015, 0.015), parent.lat + rng.uniform(-0.012, 0.012)
        r.save(update_fields=["lng", "lat"])
    cases = list(Case.objects.select_related("region__parent__parent"))
    for case in cases:
        fill_coordinates(case)
        if case.geo_source == "region":  # demo only: spread around the centre
            case.lng += rng.uniform(-0.004, 0.004)
            case.lat += rng.uniform(-0.004, 0.004)
    Case.objects.bulk_update(cases, ["lng", "lat", "geo_source"], batch_size=500)
    derived = rollup.derive_missing()
    counts = rollup.rebuild()
    return {"cases": len(cases), **derived, **counts}
