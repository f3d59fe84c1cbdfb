"""make run's demo data: realistic, valid and idempotent."""
from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from lowcode.fieldtypes import id_number_checksum_ok


def test_seeding_twice_creates_nothing_twice(metadata, settings):
    settings.DEBUG = True
    from accounts.models import User
    from cases.models import Case, Party
    from orgs.models import Organization, Region

    out = StringIO()
    call_command("seed_demo", cases=40, stdout=out)
    counts = (Region.objects.count(), Organization.objects.count(), User.objects.count(),
              Case.objects.count(), Party.objects.count())
    call_command("seed_demo", cases=40, stdout=StringIO())
    assert counts == (Region.objects.count(), Organization.objects.count(), User.objects.count(),
                      Case.objects.count(), Party.objects.count())
    assert counts[3] == 40
    assert "demo_mediator" in out.getvalue() and "社区调解员" in out.getvalue()
    roles = set(User.objects.filter(username__startswith="demo_").values_list("groups__name", flat=True))
    assert roles == {"区级管理员", "业务配置管理员", "街道管理员", "社区调解员", "部门用户", "第三方组织管理员", "第三方调解员",
                     "系统管理员", "安全管理员", "审计管理员"}
    assert not User.objects.filter(is_superuser=True).exists()  # 三员分立: nobody is a superuser


def test_demo_cases_look_real_and_identity_numbers_are_valid(metadata, settings):
    settings.DEBUG = True
    from cases.models import Case, Party

    call_command("seed_demo", cases=30, stdout=StringIO())
    ids = [p.id_number for p in Party.objects.exclude(id_number="")]
    assert ids and all(id_number_checksum_ok(i) for i in ids)
    case = Case.objects.first()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in case.description)
    assert case.region.level >= 3 and case.region_path.startswith("339901/")


def test_seeding_without_a_password_outside_debug_is_refused(metadata, settings, monkeypatch):
    import pytest
    from django.core.management.base import CommandError

    settings.DEBUG = False
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        call_command("seed_demo", cases=1, stdout=StringIO())


def test_demo_prints_second_factor_keys_and_the_printed_key_logs_in(metadata, settings):
    """make run's demo: PC logins ask for a TOTP code; the demo prints each internal account's
    key, and demo_otp gives the code that the second-factor step accepts (DEBUG only)."""
    import re

    import pytest
    from django.core.management.base import CommandError
    from django.test import Client

    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", cases=5, stdout=out)
    text = out.getvalue()
    assert "动态口令" in text
    assert re.search(r"demo_district\s+[A-Z2-7]{16,}", text), text
    code = StringIO()
    call_command("demo_otp", "demo_district", stdout=code)
    token = code.getvalue().strip()
    assert re.fullmatch(r"\d{6}", token)

    c = Client()
    r = c.post("/admin/login/?next=/admin/", {"username": "demo_district", "password": "Mdtj@demo2026"})
    assert r.status_code == 302
    r = c.get("/admin/", follow=True)
    assert "/accounts/otp/" in r.redirect_chain[-1][0]
    r = c.post("/accounts/otp/", {"token": token}, follow=True)
    assert r.redirect_chain and "/accounts/otp/" not in r.redirect_chain[-1][0]
    assert c.get("/admin/").status_code == 200

    settings.DEBUG = False
    with pytest.raises(CommandError, match="仅用于本机演示"):
        call_command("demo_otp", "demo_district", stdout=StringIO())


def test_the_demo_shows_a_site_added_sensitive_field_stored_encrypted(metadata, settings):
    """The demo's 工资收款账号 (added by the site, marked 敏感) has values on the wage cases, kept as
    ciphertext in the database and readable through the field spec."""
    settings.DEBUG = True
    import json

    from django.db import connection

    from cases.models import Case
    from lowcode import registry
    from lowcode.models import FieldDef

    call_command("seed_demo", cases=60, stdout=StringIO())
    field = FieldDef.objects.get(entity="case", code="wage_account")
    assert field.sensitive and field.origin == "site"
    wage = Case.objects.filter(case_type="labor_wage")
    assert wage.exists()
    spec = registry.get_meta("case").fields["wage_account"]
    for case in wage:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extra FROM cases_case WHERE id = %s", [case.pk])
            raw = cursor.fetchone()[0]
        stored = (json.loads(raw) if isinstance(raw, str) else raw)["wage_account"]
        plain = spec.from_stored(stored)
        assert plain.startswith("6222") and len(plain) == 19
        assert plain not in json.dumps(stored)
