"""Accounts for the load test (tests/load/locustfile.py): 900 mediators, 90 street admins and 10
district admins spread over the demo district's communities and streets, one password
(LOAD_PASSWORD), no forced change, no second factor for the load accounts' roles in this database.

Run against the load database only (never production):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mdtj_load .venv/bin/python tests/load/prepare.py
Cases and logs: tests/perf/bench_screens.py fills the same database (200,000 cases, 1,000,000 logs).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> int:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import SecurityPolicy, User
    from demo import seeding
    from orgs.models import Region

    if "load" not in os.environ.get("DATABASE_URL", "") and "--force" not in sys.argv:
        print("refusing: DATABASE_URL must name a load-test database (…/mdtj_load)")
        return 2
    roles = seeding.ensure_roles()
    regions = seeding.ensure_regions()
    seeding.ensure_organizations(regions)
    communities = list(Region.objects.filter(level=Region.Level.COMMUNITY).order_by("path"))
    streets = list(Region.objects.filter(level=Region.Level.STREET).order_by("path"))
    district = Region.objects.get(level=Region.Level.DISTRICT)
    password = make_password(os.environ.get("LOAD_PASSWORD", "Load@test-2026"))  # hashed once
    now = timezone.now()
    plan = ([(f"load_med_{i:04d}", communities[i % len(communities)], "mediator") for i in range(1, 901)]
            + [(f"load_street_{i:02d}", streets[i % len(streets)], "street_admin") for i in range(1, 91)]
            + [(f"load_district_{i:02d}", district, "district_admin") for i in range(1, 11)])
    have = set(User.objects.filter(username__startswith="load_").values_list("username", flat=True))
    new = [User(username=u, display_name=u, region=r, is_staff=True, password=password,
                password_changed_at=now) for u, r, _ in plan if u not in have]
    User.objects.bulk_create(new, batch_size=500)
    users = {u.username: u for u in User.objects.filter(username__startswith="load_")}
    Through = User.groups.through
    Through.objects.filter(user__username__startswith="load_").delete()
    Through.objects.bulk_create([Through(user_id=users[u].pk, group_id=roles[role].pk) for u, _, role in plan],
                                batch_size=1000)
    policy = SecurityPolicy.objects.first() or SecurityPolicy()
    policy.otp_roles = []  # the load accounts log in with a password only (this database only)
    policy.save()
    print(f"load accounts: {len(plan)} ({len(new)} new); accounts in the database: {User.objects.count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
