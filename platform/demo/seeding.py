"""Demo regions, organisations, roles, users and cases. Idempotent: running it again creates
nothing twice and never resets what an admin changed."""
from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from demo import synthetic
from orgs.models import Organization, Region

DEMO_CASE_MARK = "demo_"


def ensure_regions() -> dict[str, Region]:
    spec = synthetic.load("regions.yaml")
    d = spec["district"]
    district, _ = Region.objects.get_or_create(code=d["code"], defaults={"name": d["name"], "level": Region.Level.DISTRICT})
    out = {district.code: district}
    for i, s in enumerate(spec["streets"], 1):
        street, _ = Region.objects.get_or_create(code=s["code"], defaults={
            "name": s["name"], "level": Region.Level.STREET, "parent": district, "sort": i})
        out[street.code] = street
        for j, cname in enumerate(s["communities"], 1):
            community, _ = Region.objects.get_or_create(code=f"{s['code']}{j:03d}", defaults={
                "name": cname, "level": Region.Level.COMMUNITY, "parent": street, "sort": j})
            out[community.code] = community
            for k in range(1, spec["grids_per_community"] + 1):
                grid, _ = Region.objects.get_or_create(code=f"{community.code}{k:02d}", defaults={
                    "name": f"{cname}第{k}网格", "level": Region.Level.GRID, "parent": community, "sort": k})
                out[grid.code] = grid
    return out


def ensure_organizations(regions: dict[str, Region]) -> None:
    district = next(r for r in regions.values() if r.level == Region.Level.DISTRICT)
    wanted = [("示范区社会治理中心", "gov", district), ("示范区人力资源和社会保障局", "dept", district),
              ("和合商事调解中心", "third", district), ("平安律师调解工作室", "third", district)]
    for r in regions.values():
        if r.level == Region.Level.STREET:
            wanted.append((f"{r.name}综治中心", "street", r))
        elif r.level == Region.Level.COMMUNITY:
            wanted.append((f"{r.name}人民调解委员会", "committee", r))
    for name, kind, region in wanted:
        Organization.objects.get_or_create(name=name, defaults={"kind": kind, "region": region})


def ensure_roles() -> dict[str, Group]:
    """The roles of metadata/roles.yaml (accounts.separation.sync_roles: missing roles created,
    the three management roles' rights as the file says, no management right on a business role)."""
    from accounts.separation import sync_roles

    return sync_roles()[0]


def ensure_users(password: str) -> list[tuple[str, str]]:
    """The demo users of users.yaml (role by code); returns [(username, role's display name)]."""
    from accounts.models import User

    roles = ensure_roles()
    out = []
    for spec in synthetic.load("users.yaml"):
        region = None
        if spec["region"]:
            region = Region.objects.filter(code=spec["region"]).first() or Region.objects.get(name=spec["region"])
        org = Organization.objects.filter(name=spec["organization"]).first()
        user, created = User.objects.get_or_create(username=spec["username"], defaults={
            "display_name": spec["display_name"], "region": region, "organization": org, "is_staff": True})
        if created:
            user.set_password(password)
            user.save()
            user.groups.add(roles[spec["role"]])
        out.append((spec["username"], roles[spec["role"]].name))
    return out


# A field the district added itself (origin "site"), marked 敏感: it shows the runtime-field
# encryption and masking with data (ciphertext in the database, *** for users without the right).
DEMO_SENSITIVE_FIELD = {"entity": "case", "code": "wage_account", "label": "工资收款账号",
                        "fieldtype": "data", "scope": ["labor_wage"], "sensitive": True,
                        "search_index": True, "max_length": 30, "idx": 215,
                        "description": "欠薪案件劳动者的工资收款银行账号（演示：本地新增的敏感字段）"}


def ensure_site_fields() -> bool:
    """The demo's site-added sensitive field; True when it was created now."""
    from lowcode.models import FieldDef

    values = dict(DEMO_SENSITIVE_FIELD)
    _, created = FieldDef.objects.get_or_create(entity=values.pop("entity"), code=values.pop("code"),
                                                defaults={**values, "origin": "site"})
    return created


def demo_account(title: str) -> str:
    """A synthetic 19-digit account number derived from the title (no draw from the seeded
    random stream, so the rest of the demo data stays as it was)."""
    import zlib

    return "6222" + str(zlib.crc32(title.encode("utf-8"))).zfill(10)[:10] + "00019"


def seed_cases(count: int, seed: int = 20261125) -> int:
    """Create ``count`` demo cases unless demo cases exist already."""
    from accounts.models import User
    from cases.models import Case, MediationLog, MediationResult, Party, Review

    if Case.objects.filter(registrant__username__startswith=DEMO_CASE_MARK).exists():
        return 0
    rng = random.Random(seed)
    communities = list(Region.objects.filter(level__gte=Region.CASE_LEVEL))
    registrants = {u.region_id: u for u in User.objects.filter(username__startswith=DEMO_CASE_MARK)}
    fallback = User.objects.filter(username="demo_mediator").first()
    types = ["neighbor"] * 6 + ["marriage", "support", "inheritance", "housing", "housing", "contract",
             "labor", "labor_wage", "labor_wage", "labor_injury", "labor_contract", "property_mgmt",
             "property_mgmt", "medical", "traffic", "traffic", "consumer", "consumer", "land",
             "demolition", "environment", "damages", "other"]
    statuses = ["registered"] * 3 + ["mediating"] * 3 + ["pending_review", "mediated", "mediated", "mediated", "archived"]
    mediation_types = ["people"] * 6 + ["industry", "lawyer", "administrative", "commercial"]
    now = timezone.now()
    created = 0
    with transaction.atomic():
        for _ in range(count):
            region = rng.choice(communities)
            place = f"示范区{region.parent.name if region.level == Region.Level.GRID else ''}{region.name}".replace("网格", "")
            draft = synthetic.case_draft(rng, rng.choice(types), place)
            if draft.case_type == "labor_wage":  # stored encrypted by the model's save (lowcode.sensitive)
                draft.extra["wage_account"] = demo_account(draft.title)
            status = rng.choice(statuses)
            # closed cases spread over the year (the analysis trends); open ones are recent, so only
            # a few are past their time limit instead of most of them by months
            span = 365 if status in ("mediated", "archived") else 45
            when = now - dt.timedelta(days=rng.randint(0, span), minutes=rng.randint(0, 1440))
            case = Case(
                title=draft.title, description=draft.description, case_type=draft.case_type,
                mediation_type=rng.choice(mediation_types), status=status,
                party_count=draft.party_count, address=synthetic.address(rng, place),
                occurred_at=when - dt.timedelta(days=rng.randint(0, 10)), registered_at=when,
                region=region, registrant=registrants.get(region.pk, fallback),
                tags=["group"] if draft.party_count >= 10 else [], extra=draft.extra)
            case.save()
            Party.objects.bulk_create([Party(case=case, **p) for p in draft.parties])
            add_handling(rng, case, when, MediationLog, MediationResult, Review)
            created += 1
    return created


LOG_LINES = ["向双方了解纠纷经过，听取各自诉求。", "组织双方面对面协商，讲解相关法律规定。",
             "申请人情绪较为激动，先行安抚并约定再次调解时间。", "双方就主要分歧初步达成一致意见。"]


def add_handling(rng: random.Random, case, when, MediationLog, MediationResult, Review) -> None:
    """Logs, results and pending reviews that match the demo case's status."""
    if case.status == "registered":
        return
    for k in range(rng.randint(1, 2)):
        MediationLog.objects.create(case=case, occurred_at=when + dt.timedelta(days=k + 1), place="社区调解室",
                                    participants="调解员、双方当事人", content=rng.choice(LOG_LINES),
                                    created_by=case.registrant)
    if case.status in ("pending_review", "mediated", "archived"):
        MediationResult.objects.create(case=case, outcome=rng.choice(["success"] * 4 + ["partial", "failed"]),
                                       agreement="双方自愿达成调解协议，按约履行。", submitted_by=case.registrant)
    if case.status == "pending_review":
        Review.objects.create(case=case, kind="result", state="pending_review", submitted_by=case.registrant,
                              submitted_at=when + dt.timedelta(days=3))
