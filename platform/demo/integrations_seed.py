"""Demo of issue #16 (对接外部系统): the outside-system configurations pointing at the loopback
fakes (tests/fakes; 127.0.0.1 only), one 政钉 sync and work notices run against the fake so the
status pages show real counts, a 天地图 result awaiting review, and an API client for the
district platform. Idempotent; synthetic data only. Secrets: the fakes' own values are put in
this process's environment (DEMO_*_SECRET) only while seeding."""
from __future__ import annotations

import os

ZZD_SECRET, TDT_KEY = "demo-zzd-secret", "demo-tianditu-key"


def _fake_tree():
    orgs = {"GO_demo_district": {"organizationName": "示范区人民政府（政钉）", "parentCode": ""},
            "GO_demo_donghu": {"organizationName": "东湖街道办事处（政钉）", "parentCode": "GO_demo_district"},
            "GO_demo_hubin": {"organizationName": "湖滨社区居委会（政钉）", "parentCode": "GO_demo_donghu"}}
    employees = {f"GE_demo_{i:02d}": {"employeeName": name, "org": org, "accountId": 880000 + i}
                 for i, (name, org) in enumerate([("钱调解", "GO_demo_hubin"), ("孙网格", "GO_demo_hubin"),
                                                  ("李街道", "GO_demo_donghu"), ("周区级", "GO_demo_district")])}
    return orgs, employees


def seed_integrations() -> dict:
    from django.contrib.auth import get_user_model

    from api.models import ApiClient
    from integrations import sync, tianditu
    from integrations.http import IntegrationError
    from integrations.models import ExternalAccount, ExternalSystem, OrgMapping
    from orgs.models import Region

    try:
        from tests.fakes.tianditu import FakeTianditu
        from tests.fakes.zzd import FakeZzd
    except ImportError:  # a deployment without the tests folder: configurations only
        FakeZzd = FakeTianditu = None
    district = Region.objects.filter(level=Region.Level.DISTRICT).order_by("sort", "code").first()
    if district is None:
        return {"synced": 0}
    os.environ.setdefault("DEMO_ZZD_SECRET", ZZD_SECRET)
    os.environ.setdefault("DEMO_TIANDITU_KEY", TDT_KEY)
    out = {"synced": 0}
    ApiClient.objects.get_or_create(name="区社会治理中心平台（演示）", defaults={
        "region": district, "channel": "province", "can_push": True, "rate_limit": 600})
    for code, name, end in (("ywtg", "一网通管", "pc"), ("wlsq", "未来社区", "h5")):
        ExternalSystem.objects.get_or_create(code=code, defaults={
            "name": name, "kind": ExternalSystem.OAUTH2, "end": end, "enabled": False,
            "base_url": "http://127.0.0.1:18083", "login_url": "http://127.0.0.1:18083/authorize",
            "token_url": "http://127.0.0.1:18083/token", "userinfo_url": "http://127.0.0.1:18083/userinfo",
            "app_key": f"{code}-client", "secret_env": f"DEMO_{code.upper()}_SECRET"})
    zzd, created = ExternalSystem.objects.get_or_create(code="zzd", defaults={
        "name": "浙政钉（演示：本机模拟）", "kind": ExternalSystem.ZZD, "enabled": True,
        "base_url": "http://127.0.0.1:18081", "login_url": "http://127.0.0.1:18081", "app_key": "demo-zzd-app",
        "secret_env": "DEMO_ZZD_SECRET", "tenant_id": "1001", "retries": 1})
    tdt, _ = ExternalSystem.objects.get_or_create(code="tianditu", defaults={
        "name": "天地图（演示：本机模拟）", "kind": ExternalSystem.TIANDITU, "enabled": True,
        "base_url": "http://127.0.0.1:18082", "secret_env": "DEMO_TIANDITU_KEY", "retries": 0})
    street, community = Region.objects.filter(name="东湖街道").first(), Region.objects.filter(name="湖滨社区").first()
    for org_code, region in (("GO_demo_district", district), ("GO_demo_donghu", street), ("GO_demo_hubin", community)):
        if region is not None:
            OrgMapping.objects.get_or_create(system=zzd, org_code=org_code, defaults={"region": region})
    if not created or FakeZzd is None:
        return out
    orgs, employees = _fake_tree()
    try:
        fake_zzd = FakeZzd(app_key="demo-zzd-app", secret=os.environ["DEMO_ZZD_SECRET"], orgs=orgs,
                           employees=employees, port=18081)
        fake_tdt = FakeTianditu(key=os.environ["DEMO_TIANDITU_KEY"], known={
            "示范区湖滨路8号": (120.1551, 30.2741)}, port=18082)
    except OSError:  # the demo ports are taken: the configurations stay, without a first run
        return out
    try:
        run = sync.run(zzd)
        out["synced"] = run.users_new
        # one synced account is the demo mediator's 政钉 identity (免登 maps to demo_mediator)
        mediator = get_user_model().objects.filter(username="demo_mediator").first()
        if mediator is not None and not ExternalAccount.objects.filter(system=zzd, user=mediator).exists():
            ExternalAccount.objects.get_or_create(system=zzd, external_id="880099", defaults={
                "user": mediator, "external_name": "演示调解员（政钉）", "org_code": "GO_demo_hubin"})
        from integrations.notices import on_notices_sent
        from notices.actions import notify
        from notices.models import Notice

        synced = [a.user for a in ExternalAccount.objects.filter(system=zzd).select_related("user")[:2]]
        for users, title, body in ((synced, "欢迎使用矛调系统", "您的政钉账号已同步，请联系管理员分配角色后使用。"),
                                   (synced[:1], "系统维护通知", "今晚 22:00 系统维护。")):
            notify(users, "system", title, body)
            # delivered here, while the fake runs (the hook would run after the seed's commit)
            on_notices_sent(ids=list(Notice.objects.filter(title=title, recipient__in=users).values_list("pk", flat=True)))
            fake_zzd.broken = True  # the second delivery fails: an error on the status page, a retry pending
        for address in ("示范区湖滨路8号", "示范区不存在的路999号"):
            try:
                tianditu.geocode(address, tdt)
            except IntegrationError:
                pass
    finally:
        fake_zzd.close()
        fake_tdt.close()
    return out
