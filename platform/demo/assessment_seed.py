"""Demo 考核评价: a mediator for every community that has demo cases (the community's cases
registered by the fallback account become theirs), a few training records, and snapshots of the
last six months for every dimension — the ranking pages, rank change, 考核分析 trends and the H5
个人中心 card show data at once. Re-running creates nothing twice and recomputes no closed period."""
from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from assessment import compute, periods
from assessment.models import MediatorProfile, Snapshot, TrainingRecord

MARK = "as_med_"
SPECIALTIES = ["婚姻家庭", "邻里纠纷", "劳动争议", "物业纠纷", "交通事故", "消费纠纷"]


def ensure_mediators() -> int:
    """One synthetic mediator per community with demo cases (not 湖滨社区: demo_mediator's)."""
    from accounts import roles
    from accounts.models import User
    from cases.models import Case
    from orgs.models import Region

    fallback = User.objects.filter(username="demo_mediator").first()
    if fallback is None or User.objects.filter(username__startswith=MARK).exists():
        return 0
    rng = random.Random(14)
    made = 0
    with transaction.atomic():
        for community in Region.objects.filter(level=Region.Level.COMMUNITY).exclude(pk=fallback.region_id):
            cases = Case.objects.filter(region_path__startswith=community.path, registrant=fallback)
            if not cases.exists():
                continue
            user = User(username=f"{MARK}{community.code}", display_name=f"{community.name}调解员",
                        region=community, is_staff=True)
            user.set_unusable_password()
            user.save()
            user.groups.add(roles.group("mediator"))
            cases.update(registrant=user)
            MediatorProfile.objects.create(user=user, specialty=rng.choice(SPECIALTIES),
                                           qualification=rng.choice(["一级人民调解员", "二级人民调解员", "律师"]))
            made += 1
        today = timezone.localdate()
        for user in User.objects.filter(groups__role__code="mediator", region__isnull=False).distinct():
            for k in range(rng.randint(0, 3)):
                TrainingRecord.objects.create(user=user, title=rng.choice(["人民调解业务培训", "法律知识讲座", "心理疏导技巧"]),
                                              held_on=today - dt.timedelta(days=rng.randint(1, 300)),
                                              hours=rng.choice([2, 4, 8]), organiser="区司法局")
    return made


def seed_assessment(months: int = 6) -> int:
    ensure_mediators()
    period = periods.last_month()
    todo = []
    for _ in range(months):
        todo.append(period)
        period = period.previous()
    made = 0
    for p in reversed(todo):  # oldest first: each month's rank change reads the month before
        if Snapshot.objects.filter(period_kind=p.kind, period_key=p.key).exists():
            continue
        made += len(compute.compute_period(p))
    return made
