"""Demo 部门转办: a few labour cases referred to 示范区人社局 (one answered), made through
``cases.referrals`` like a street or district admin would — so demo_dept sees those cases and
nothing else. Idempotent: nothing happens once the department has a referral."""
from __future__ import annotations

DEPARTMENT = "示范区人力资源和社会保障局"
COUNT = 3


def seed_referrals() -> int:
    from accounts.models import User
    from cases import referrals
    from cases.models import Case, CaseReferral
    from orgs.models import Organization

    dept = Organization.objects.filter(name=DEPARTMENT).first()
    district = User.objects.filter(username="demo_district").first()
    dept_user = User.objects.filter(username="demo_dept").first()
    if dept is None or district is None or CaseReferral.objects.filter(department=dept).exists():
        return 0
    cases = list(Case.objects.filter(case_type__startswith="labor", registrant__username__startswith="demo_")
                 .order_by("-registered_at")[:COUNT])
    for i, case in enumerate(cases):
        referral = referrals.refer(case, district, department=dept, kind="transfer" if i % 2 == 0 else "assign",
                                   reason="涉及劳动报酬/劳动关系，请人社局依职责核查处理并反馈。")
        if i == 0 and dept_user is not None:
            referrals.answer(referral, dept_user, text="已约谈用人单位，责令限期支付，后续跟踪。")
    return len(cases)
