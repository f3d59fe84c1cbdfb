"""Issue #17, day one: the region tree, organisations and users come in from Excel/CSV (command and
screen), preview first, a Chinese reason per bad row, nothing half-written, nothing twice."""
from __future__ import annotations

import io
import os
import stat

import pytest
from django.core.management import CommandError, call_command
from django.core.files.uploadedfile import SimpleUploadedFile

from orgs.models import Organization, Region

REGIONS = """区划代码,名称,层级,上级区划代码,排序
55010101,新河社区,社区,550101,1
550101,新河街道,街道,550100,
550100,新区,区,,
5501010101,新河一网格,网格,55010101,
"""
ORGS = """机构名称,类型,所属区划代码,联系人
新河街道综治中心,街道综治中心,550101,王五
新河社区人民调解委员会,人民调解委员会,55010101,
"""
USERS = """账号,姓名,所属区划代码,所属机构,角色,手机号
xh_mediator,新河调解员,55010101,新河社区人民调解委员会,社区调解员,13800000001
xh_street,新河街道管理员,550101,新河街道综治中心,街道管理员,
"""


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


@pytest.fixture
def roles(metadata):
    from demo import seeding

    seeding.ensure_roles()


def test_a_fresh_installation_gets_its_tree_orgs_and_users_from_the_command(roles, tmp_path):
    from accounts.models import User

    out = io.StringIO()
    pw_file = tmp_path / "pw.csv"
    call_command("import_orgs", _write(tmp_path, "r.csv", REGIONS), _write(tmp_path, "o.csv", ORGS),
                 _write(tmp_path, "u.csv", USERS), "--passwords-out", str(pw_file), stdout=out)
    grid = Region.objects.get(code="5501010101")
    assert grid.path == "550100/550101/55010101/5501010101/" and grid.level == Region.Level.GRID
    assert Region.objects.get(code="55010101").parent.name == "新河街道"
    assert Organization.objects.get(name="新河街道综治中心").region.code == "550101"
    u = User.objects.get(username="xh_mediator")
    assert u.must_change_password and u.region.code == "55010101" and u.mobile == "13800000001"
    assert [g.name for g in u.groups.all()] == ["社区调解员"]
    lines = pw_file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "账号,初始密码" and len(lines) == 3
    assert stat.S_IMODE(os.stat(pw_file).st_mode) == 0o600
    username, password = lines[1].split(",")
    assert User.objects.get(username=username).check_password(password)
    assert password not in out.getvalue()
    # the same files again: nothing new, nothing changed, no account touched
    out = io.StringIO()
    call_command("import_orgs", str(tmp_path / "r.csv"), str(tmp_path / "o.csv"), str(tmp_path / "u.csv"), stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == '{"read": 8, "new": 0, "updated": 0, "unchanged": 8, "rejected": 0}'
    assert Region.objects.filter(code__startswith="5501").count() == 4 and User.objects.get(username="xh_mediator").check_password(password)


def test_one_bad_row_writes_nothing_and_says_why_in_chinese(roles, tmp_path):
    bad = REGIONS + "55010102,坏社区,网格,550101,\n55010103,孤儿社区,社区,999999,\n"
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_orgs", _write(tmp_path, "r.csv", bad), stdout=out)
    text = out.getvalue()
    assert "第 6 行：层级不对：上级“550101”是街道/镇，下一级应为社区/村" in text
    assert "第 7 行：上级区划代码“999999”在文件和系统中都不存在" in text
    assert not Region.objects.filter(code__startswith="5501").exists()
    call_command("import_orgs", str(tmp_path / "r.csv"), "--skip-errors", stdout=io.StringIO())
    assert Region.objects.filter(code__startswith="5501").count() == 4


def test_users_never_get_a_three_admin_role_and_unknown_orgs_are_named(roles, tmp_path):
    call_command("import_orgs", _write(tmp_path, "r.csv", REGIONS), stdout=io.StringIO())
    users = "账号,姓名,所属区划代码,所属机构,角色\nx1,甲,550101,无此机构,系统管理员\nx 2,乙,550101,,社区调解员\n"
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_orgs", _write(tmp_path, "u.csv", users), stdout=out)
    text = out.getvalue()
    assert "所属机构“无此机构”不存在" in text and "角色“系统管理员”不存在或您无权分配" in text
    assert "账号只能包含字母、数字和 @ . + - _" in text


def _upload(client, text, name="f.csv"):
    return client.post("/admin/orgs/region/import/", {
        "action": "upload", "file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")})


def _confirm(client, page, skip=False):
    token = page.context["token"]
    return client.post("/admin/orgs/region/import/", {"action": "confirm", "token": token,
                                                       **({"skip_errors": "1"} if skip else {})})


def test_the_system_admin_previews_then_imports_users_of_the_district(world, client_for):
    from accounts.models import User

    client = client_for("demo_sysadmin")
    assert "导入区域/机构/用户" in client.get("/admin/orgs/region/").content.decode()
    users = ("账号,姓名,所属区划代码,所属机构,角色\n"
             "hb_new,湖滨新人,339901001,,社区调解员\nbad,坏人,000000,,社区调解员\n")
    page = _upload(client, users)
    html = page.content.decode()
    assert page.status_code == 200 and "所属区划代码“000000”不存在" in html and "有错误" in html
    assert not User.objects.filter(username="hb_new").exists()  # the preview writes nothing
    refused = _confirm(client, page)
    assert "有 1 行数据有错误，未导入任何数据" in refused.content.decode()
    assert not User.objects.filter(username="hb_new").exists()
    done = _confirm(client, refused, skip=True)
    body = done.content.decode()
    assert "新增 1 条" in body and "初始密码（只显示这一次）" in body
    password = done.context["passwords"][0][1]
    assert User.objects.get(username="hb_new").check_password(password)
    again = _confirm(client, refused, skip=True)  # a double submit imports nothing twice
    assert "导入任务不存在或已过期" in again.content.decode()
    assert User.objects.filter(username="hb_new").count() == 1
    from secure.models import SecurityEvent

    assert SecurityEvent.objects.filter(event="user_change", username="demo_sysadmin",
                                        detail__created=["hb_new"]).exists()


def test_an_admin_of_one_street_cannot_import_into_another(world, client_for):
    from accounts.models import User

    User.objects.filter(username="demo_sysadmin").update(region=Region.objects.get(code="339901001"))
    client = client_for("demo_sysadmin")
    page = _upload(client, "机构名称,类型,所属区划代码\n西溪新机构,人民调解委员会,339901002\n")
    assert "不在您的管辖范围（东湖街道）内" in page.content.decode()
    page = _upload(client, "区划代码,名称,层级,上级区划代码\n77,新区,区,\n")
    assert "区一级只能用命令导入" in page.content.decode()


def test_users_without_the_rights_get_no_import_screen(world, client_for):
    assert client_for("demo_street").get("/admin/orgs/region/import/").status_code == 403
    assert client_for("demo_mediator").get("/admin/orgs/region/import/template/user/").status_code in (302, 403)
    client = client_for("demo_sysadmin")
    r = client.get("/admin/orgs/region/import/template/user/")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert client.get("/admin/orgs/region/import/template/nonsense/").status_code == 403
    page = _upload(client, "甲,乙\n1,2\n")
    assert "无法识别的文件" in page.content.decode()
