"""统一地址库: normalisation, matching (a table of tricky cases and the channel samples),
import (command and admin; idempotent; Chinese messages per bad row), cache invalidation,
speed."""
from __future__ import annotations

import csv
import glob
import io
import json
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from addresses import matching, normalize

pytestmark = pytest.mark.backend  # depends on the database backend: address matching queries


DEMO_CSV = settings.BASE_DIR / "fixtures" / "addresses" / "demo_addresses.csv"
from tests.samples import SAMPLES
ADDRESS_FIELDS = ("事发地址", "地址", "发生地点", "纠纷发生地", "address")
HEADER = ["标准地址", "街道编码", "社区编码", "网格编码", "经度", "纬度"]

锦绣 = "示范区青山镇竹溪村文化路313号锦绣家园23幢2单元203室"
锦绣楼 = "示范区青山镇竹溪村文化路313号锦绣家园23幢"
锦绣门 = "示范区青山镇竹溪村文化路313号锦绣家园"
翠柳 = "示范区青山镇竹溪村建设路27号翠柳小区12幢1单元1203室"
学院6 = "示范区青山镇竹溪村学院路6号"
东湖新村_城西 = "示范区城西街道金桥社区环城北路301号东湖新村19幢4单元1301室"
东湖新村_青山 = "示范区青山镇竹溪村丰收路257号东湖新村18幢2单元1804室"
新塘158 = "示范区城东街道新塘社区文化路158号"


@pytest.fixture(autouse=True)
def fresh_matcher():
    matching.reset()
    yield
    matching.reset()  # the library is rolled back after each test


@pytest.fixture
def library(world):
    out = io.StringIO()
    call_command("import_addresses", str(DEMO_CSV), stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["rejected"] == 0
    return world


def run_import(path) -> tuple[dict, str]:
    out = io.StringIO()
    call_command("import_addresses", str(path), stdout=out)
    lines = out.getvalue().strip().splitlines()
    return json.loads(lines[-1]), out.getvalue()


def write_csv(path: Path, rows, header=HEADER) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


# --- normalisation (no database) ----------------------------------------------------------
@pytest.mark.parametrize("variant", [
    "锦绣家园3幢2单元501室", "锦绣家园3-2-501", "锦绣家园3栋2单元501", "锦绣家园3号楼2单元501室",
    "锦绣家园 3 幢 2 单元 501 室", "锦绣家园３幢２单元５０１室", "锦绣家园三幢二单元五零一室", "锦绣家园3#2单元501",
    "锦绣家园小区3-2-501", "锦绣家园3幢2单元5楼501室",
])
def test_unit_forms_share_one_key(variant):
    assert normalize.normalise_key(variant) == "锦绣家园3幢2单元501室"


@pytest.mark.parametrize("text, rest", [
    ("浙江省某市XX区青山镇文化路1号", "青山镇文化路1号"),
    ("XX区城东街道文化路1号", "城东街道文化路1号"),
    ("杭州市西湖区文三路5号", "文三路5号"),
    ("示范区北港镇中山路2号", "北港镇中山路2号"),
    ("翠柳小区12-1-1203", "翠柳小区12-1-1203"),       # 小区 is not a district
    ("农贸市场东门", "农贸市场东门"),                    # 市场 is not a city
    ("城西街道东区3幢", "城西街道东区3幢"),             # a street is never a district prefix
])
def test_prefixes(text, rest):
    assert normalize.strip_prefixes(normalize.clean(text), ["示范区"])[0] == rest


def test_parse_components_and_suffixes():
    c = normalize.parse("浙江省某市XX区青山镇竹溪村丰收路２５７号 东湖新村18幢2单元1804室附近")
    assert (c.street, c.community, c.road, c.number, c.estate, c.building, c.unit, c.room, c.vague) == (
        "青山镇", "竹溪村", "丰收路", "257", "东湖新村", "18", "2", "1804", True)
    assert c.key == "丰收路257号东湖新村18幢2单元1804室"
    assert normalize.parse("滨江一号19幢4单元601室").estate == "滨江一号"    # numerals in names stay
    assert normalize.parse("青山村3组15号").key == "青山村3组15号"
    assert normalize.parse("三号楼").building == "3"
    assert normalize.cn_to_int("二十三") == 23 and normalize.cn_to_int("一百零五") == 105
    assert normalize.parse("3幢2单元501室").key == ""          # no locator: not an address on its own
    assert normalize.parse("文化路313号之1").key == normalize.parse("文化路313-1号").key == "文化路313-1号"
    assert normalize.parse("浙江省某市XX区").key == ""


# --- matching: the table -----------------------------------------------------------------
CASES = [
    # text, quality, standard text (None: no standard), region name
    ("XX区青山镇文化路313号锦绣家园23-2-203", "exact", 锦绣, "竹溪村第1网格"),
    ("青山镇文化路３１３号锦绣家园23幢2单元203室", "exact", 锦绣, "竹溪村第1网格"),
    ("浙江省某市示范区青山镇竹溪村文化路313号锦绣家园23栋2单元203", "exact", 锦绣, "竹溪村第1网格"),
    ("文化路313号锦绣家园23号楼2单元203室", "exact", 锦绣, "竹溪村第1网格"),
    ("青山镇文化路313号 锦绣家园 二十三幢二单元二零三室", "exact", 锦绣, "竹溪村第1网格"),
    ("文化路313号23-2-203", "exact", 锦绣, "竹溪村第1网格"),                 # estate left out
    ("青山镇锦绣家园23幢2单元203室", "exact", 锦绣, "竹溪村第1网格"),          # road left out
    ("XX区青山镇建设路27号 翠柳小区12-1-1203", "exact", 翠柳, "竹溪村第1网格"),
    ("青山镇建设路27号翠柳12幢1单元1203室", "exact", 翠柳, "竹溪村第1网格"),   # 小区 left out
    ("学院路6号附近", "exact", 学院6, "竹溪村第1网格"),
    ("竹溪村学院路６号旁边", "exact", 学院6, "竹溪村第1网格"),
    ("XX区城西街道环城北路301号东湖新村19-4-1301", "exact", 东湖新村_城西, "金桥社区第2网格"),
    ("浙江省某市XX区青山镇竹溪村丰收路257号东湖新村18幢2单元1804室", "exact", 东湖新村_青山, "竹溪村第2网格"),
    ("杭州市西湖区城东街道文化路158号", "exact", 新塘158, "新塘社区第1网格"),   # generic city/district
    ("新塘社区文化路158号", "exact", 新塘158, "新塘社区第1网格"),
    ("西苑社区20栋2单元101", "exact", "示范区城西街道西苑社区20幢2单元101室", "西苑社区第1网格"),
    ("青山村1栋4单元601", "exact", "示范区青山镇青山村1幢4单元601室", "青山村第1网格"),
    ("北港村滨江大道９２号", "exact", "示范区北港镇北港村滨江大道92号", "北港村第1网格"),
    ("文化路313号锦绣家园23幢", "exact", 锦绣楼, "竹溪村第1网格"),             # a building is an address too
    ("文化路313号锦绣家园23幢2单元", "building", 锦绣楼, "竹溪村第1网格"),      # room missing
    ("文化路313号锦绣家园23幢2单元9999室", "building", 锦绣楼, "竹溪村第1网格"),  # room not in library
    ("文化路313号锦绣家园99幢1单元101室", "road", 锦绣门, "竹溪村第1网格"),     # building not in library
    ("文化路313号翠柳小区99幢", "road", 锦绣门, "竹溪村第1网格"),              # the door wins over the estate
    ("滨江大道92号鑫源服装厂", "road", "示范区北港镇北港村滨江大道92号", "北港村第1网格"),
    ("文化路224号附近", "exact", "示范区城西街道金桥社区文化路224号锦绣家园", "金桥社区第1网格"),
    ("青山镇竹溪村幸福路8号", "region", None, "竹溪村"),                       # unknown road
    ("城东街道某某路1号", "region", None, "城东街道"),
    ("新塘社区第1网格", "region", None, "新塘社区第1网格"),
    ("火星基地", "none", None, None),
    ("", "none", None, None),
    ("3幢2单元501室", "none", None, None),
    ("浙江省某市XX区附近", "none", None, None),
]


@pytest.mark.parametrize("text, quality, standard, region", CASES)
def test_match_table(library, text, quality, standard, region):
    m = matching.match(text)
    assert m.quality == quality, (text, m)
    if standard is not None:
        assert m.standard is not None and m.standard.text == standard
    if m.matched:
        assert m.nearest is not None and m.nearest.longitude is not None  # coordinates
    if quality in ("region", "none"):
        assert m.standard is None
    assert (m.region.name if m.region else None) == region
    assert 0.0 <= m.score <= 1.0
    assert isinstance(m.components, dict) and "road" in m.components


def test_scores_and_conflicts(library):
    exact = matching.match("青山镇文化路313号锦绣家园23-2-203")
    alias = matching.match("文化路313号23-2-203")
    vague = matching.match("学院路6号附近")
    wrong_street = matching.match("城西街道文化路313号锦绣家园23-2-203")  # the door says 青山镇
    building = matching.match("文化路313号锦绣家园23幢2单元")
    road = matching.match("文化路313号锦绣家园99幢")
    region = matching.match("城东街道某某路1号")
    assert exact.score == 1.0 and alias.score == 0.95 and vague.score == 0.9
    assert wrong_street.quality == "exact" and wrong_street.standard.text == 锦绣 and wrong_street.score == 0.8
    assert 1.0 > building.score > road.score > region.score > 0
    assert matching.match("无法识别").score == 0.0
    assert exact.matched and road.matched and not region.matched
    assert exact.quality_label == "精确匹配"


def test_no_coarser_entry_no_standard_but_nearest(world):
    """A library of rooms only: a building match names no standard address (no room stands in
    for the building) but gives the nearest one and the shared region."""
    from addresses.models import StandardAddress
    from orgs.models import Region

    grid = Region.objects.get(name="港口村第2网格")
    for room in ("1幢1单元101室", "1幢1单元102室"):
        StandardAddress.objects.create(text=f"示范区北港镇港口村和平路9号和园{room}", region=grid,
                                       longitude=Decimal("120.1"), latitude=Decimal("30.2"))
    building = matching.match("北港镇和平路9号和园1幢")
    road = matching.match("和平路9号")
    assert (building.quality, building.standard, road.quality, road.standard) == ("building", None, "road", None)
    assert building.nearest.text == "示范区北港镇港口村和平路9号和园1幢1单元101室"
    assert building.region == grid and road.region == grid


def test_hint_gives_the_region_the_text_lacks(library):
    m = matching.match("学院路999号", hint="青山镇")
    assert m.quality == "region" and m.region.name == "青山镇"
    m = matching.match("某某路1号", hint="新塘社区第4网格")   # grid unknown: its community
    assert m.region.name == "新塘社区"
    m = matching.match("城东街道某某路1号", hint="青山镇")     # the text wins over the hint
    assert m.region.name == "城东街道"
    assert matching.default_matcher().region_for("竹溪村人民调解委员会").name == "竹溪村"
    assert matching.default_matcher().region_for("339901005").name == "城东街道"


def test_same_estate_name_in_two_places_is_told_apart(library):
    assert matching.match("城西街道东湖新村19幢4单元1301室").standard.text == 东湖新村_城西
    assert matching.match("青山镇东湖新村18幢2单元1804室").standard.text == 东湖新村_青山
    m = matching.match("东湖新村")   # two estates of that name, no region: not guessed
    assert m.quality in ("region", "none") and m.standard is None


def sample_addresses() -> list[str]:
    out = []
    for path in sorted(glob.glob(str(SAMPLES / "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            record = json.loads(line)
            out.append(next(record[k] for k in ADDRESS_FIELDS if k in record))
    return out


def test_the_channel_samples_match(library):
    counts: Counter = Counter()
    unmatched = []
    for text in sample_addresses():
        m = matching.match(text)
        counts[m.quality] += 1
        if not m.matched:
            unmatched.append(text)
    print("\nsample addresses:", dict(counts))
    assert sum(counts.values()) == 48
    assert not unmatched
    assert counts["exact"] >= 46


# --- cache ------------------------------------------------------------------------------
def test_cache_reloads_after_an_address_is_added(library):
    from addresses.models import StandardAddress
    from orgs.models import Region

    text = "示范区城东街道新塘社区幸福路88号"
    assert matching.match("城东街道幸福路88号").quality == "region"
    StandardAddress.objects.create(text=text, region=Region.objects.get(name="新塘社区第2网格"),
                                   longitude=Decimal("120.1"), latitude=Decimal("30.2"))
    m = matching.match("城东街道幸福路88号")
    assert m.quality == "exact" and m.standard.text == text and m.region.name == "新塘社区第2网格"
    # deactivated: gone from the index
    obj = StandardAddress.objects.get(text=text)
    obj.is_active = False
    obj.save()
    assert matching.match("城东街道幸福路88号").quality == "region"


def test_other_processes_changes_are_seen_through_the_stamp(library):
    from addresses.models import StandardAddress
    from orgs.models import Region

    matcher = matching.Matcher(recheck_seconds=0)
    assert matcher.match("北港镇光明路5号").quality == "region"
    loaded = matcher.index()
    # a bulk write bypasses the signals (like another process would): the stamp notices
    obj = StandardAddress(text="示范区北港镇港口村光明路5号", region=Region.objects.get(name="港口村"))
    obj.refresh_derived()
    StandardAddress.objects.bulk_create([obj])
    m = matcher.match("北港镇光明路5号")
    assert m.quality == "exact" and matcher.index() is not loaded
    # and without changes the index is reused
    assert matcher.index() is matcher.index()


# --- import -----------------------------------------------------------------------------
def test_import_is_idempotent_and_updates_changed_rows(library, tmp_path):
    from addresses.models import StandardAddress

    total = StandardAddress.objects.count()
    assert total > 300
    again, _ = run_import(DEMO_CSV)
    assert again == {"read": total, "new": 0, "updated": 0, "unchanged": total, "rejected": 0}
    assert StandardAddress.objects.count() == total

    rows = list(csv.reader(open(DEMO_CSV, encoding="utf-8-sig")))
    header, body = rows[0], rows[1:]
    target = next(r for r in body if r[0] == 锦绣)
    target[4], target[5] = "120.123456", "30.234567"
    changed, _ = run_import(write_csv(tmp_path / "changed.csv", body, header))
    assert changed == {"read": total, "new": 0, "updated": 1, "unchanged": total - 1, "rejected": 0}
    obj = StandardAddress.objects.get(text=锦绣)
    assert obj.longitude == Decimal("120.123456") and obj.latitude == Decimal("30.234567")
    assert obj.history.count() == 2 and obj.history.first().history_type == "~"
    assert obj.history.first().history_change_reason == "地址库导入"


def test_import_rejects_bad_rows_with_chinese_messages(world, tmp_path):
    from addresses.models import StandardAddress

    rows = [
        ["示范区青山镇竹溪村文化路1号", "339901009", "339901009001", "", "120.1", "30.2"],          # 2 ok
        ["示范区青山镇竹溪村文化路2号", "339901099", "", "", "", ""],                              # 3 unknown street
        ["示范区青山镇文化路3号", "339901009", "339901005001", "", "", ""],                        # 4 community elsewhere
        ["示范区青山镇竹溪村文化路4号", "", "339901009001", "", "abc", "30.2"],                    # 5 bad lon
        ["示范区青山镇竹溪村文化路5号", "", "339901009001", "", "200", "30.2"],                    # 6 out of range
        ["示范区青山镇竹溪村文化路6号", "", "339901009001", "", "120.1", ""],                      # 7 lat missing
        ["示范区青山镇竹溪村文化路1号", "339901009", "", "", "", ""],                              # 8 duplicate of 2
        ["青山镇竹溪村文化路１号", "339901009", "", "", "", ""],                                   # 9 same after normalising
        ["", "339901009", "", "", "", ""],                                                         # 10 empty
        ["=HYPERLINK(\"http://x\")", "339901009", "", "", "", ""],                                 # 11 formula
        ["示范区青山镇竹溪村", "339901009", "", "", "", ""],                                       # 12 no door
        ["示范区城东街道新塘社区文化路7号", "339901009", "", "", "", ""],                          # 13 text vs code
        ["示范区青山镇竹溪村文化路8号", "", "", "", "", ""],                                       # 14 no code
        ["示范区青山镇竹溪村文化路9号", "339901009001", "", "", "", ""],                           # 15 wrong level
        ["示范区青山镇竹溪村文化路10号", "", "339901009001", "33990100500101", "", ""],            # 16 grid elsewhere
        ["示范区青山镇竹溪村文化路11号", "", "", "33990100900102", "120.2", "30.1"],               # 17 ok (grid only)
    ]
    result, output = run_import(write_csv(tmp_path / "bad.csv", rows))
    assert result == {"read": 16, "new": 2, "updated": 0, "unchanged": 0, "rejected": 14}
    expected = {
        3: "街道编码“339901099”不存在",
        4: "不属于街道“青山镇”",
        5: "经度“abc”不是有效的数字",
        6: "经度 200 超出范围",
        7: "经度和纬度须同时填写",
        8: "与第 2 行的标准地址重复",
        9: "与第 2 行“示范区青山镇竹溪村文化路1号”是同一地址",
        10: "标准地址为空",
        11: "像是电子表格公式",
        12: "无法从标准地址中识别出门牌",
        13: "标准地址中的“城东街道”与区域编码对应的“青山镇”不一致",
        14: "街道编码、社区编码、网格编码至少填写一个",
        15: "不是街道/镇",
        16: "不属于社区“竹溪村”",
    }
    for number, message in expected.items():
        line = next((ln for ln in output.splitlines() if f"第 {number} 行" in ln), "")
        assert message in line, (number, line)
    assert StandardAddress.objects.count() == 2
    grid_only = StandardAddress.objects.get(text="示范区青山镇竹溪村文化路11号")
    assert (grid_only.street_code, grid_only.community_code, grid_only.grid_code) == (
        "339901009", "339901009001", "33990100900102")
    assert grid_only.region.name == "竹溪村第2网格"
    # an address of the library written differently is refused as a duplicate
    again, output = run_import(write_csv(tmp_path / "again.csv", [["青山镇竹溪村文化路1号", "339901009", "", "", "", ""]]))
    assert again["rejected"] == 1 and "与已有标准地址“示范区青山镇竹溪村文化路1号”是同一地址" in output


def test_import_file_errors(world, tmp_path):
    from django.core.management.base import CommandError

    wrong = write_csv(tmp_path / "wrong.csv", [["a", "b"]], header=["案件名称", "当事人"])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_addresses", str(wrong), stdout=io.StringIO(), stderr=err)
    assert "缺少“标准地址”列" in err.getvalue()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_addresses", str(empty), stdout=io.StringIO(), stderr=err)
    assert "文件是空的" in err.getvalue()
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import_addresses", str(tmp_path / "nope.csv"))


def test_import_xlsx_and_dry_run(world, tmp_path):
    from openpyxl import Workbook

    from addresses.models import StandardAddress

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["示范区北港镇港口村和平路1号", "339901010", "339901010001", 33990101000101, 120.11, 30.22])
    path = tmp_path / "lib.xlsx"
    wb.save(path)
    out = io.StringIO()
    call_command("import_addresses", str(path), "--dry-run", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["new"] == 1
    assert StandardAddress.objects.count() == 0
    result, _ = run_import(path)
    assert result["new"] == 1
    obj = StandardAddress.objects.get()
    assert obj.grid_code == "33990101000101" and obj.longitude == Decimal("120.110000")


def test_demo_seeding_does_not_need_the_library(world):
    from addresses.models import StandardAddress

    assert StandardAddress.objects.count() == 0
    assert matching.match("学院路6号").quality in ("region", "none")


# --- admin ------------------------------------------------------------------------------
@pytest.fixture
def admin_client(world):
    from accounts.models import User

    user = User.objects.create_superuser("addr_admin", "a@example.com", "x")
    c = Client()
    c.force_login(user)
    return c


def test_admin_upload_preview_confirm(admin_client, tmp_path, settings):
    from addresses.models import StandardAddress

    settings.MEDIA_ROOT = tmp_path / "media"
    url = "/admin/addresses/standardaddress/import/"
    page = admin_client.get("/admin/addresses/standardaddress/")
    assert page.status_code == 200 and url in page.content.decode()
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url + "template/").status_code == 200
    body = io.StringIO()
    w = csv.writer(body)
    w.writerow(HEADER)
    w.writerow(["示范区北港镇港口村和平路1号", "339901010", "339901010001", "", "120.1", "30.2"])
    w.writerow(["示范区北港镇港口村和平路2号", "339901099", "", "", "", ""])
    upload = io.BytesIO(body.getvalue().encode("utf-8"))
    upload.name = "地址.csv"
    preview = admin_client.post(url, {"action": "upload", "file": upload})
    html = preview.content.decode()
    assert preview.status_code == 200 and "街道编码“339901099”不存在" in html
    token = preview.context["token"]
    assert preview.context["counts"] == {"read": 2, "new": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    # errors and no "skip": nothing imported
    refused = admin_client.post(url, {"action": "confirm", "token": token})
    assert "未导入任何数据" in refused.content.decode() and StandardAddress.objects.count() == 0
    done = admin_client.post(url, {"action": "confirm", "token": token, "skip_errors": "1"}, follow=True)
    assert "新增 1 条" in done.content.decode()
    assert list(StandardAddress.objects.values_list("text", flat=True)) == ["示范区北港镇港口村和平路1号"]
    # the same token cannot import twice
    twice = admin_client.post(url, {"action": "confirm", "token": token, "skip_errors": "1"})
    assert "已过期" in twice.content.decode()
    # list filters and search
    listing = admin_client.get("/admin/addresses/standardaddress/?street=339901010&q=和平路")
    assert "示范区北港镇港口村和平路1号" in listing.content.decode()
    assert "示范区北港镇港口村和平路1号" not in admin_client.get(
        "/admin/addresses/standardaddress/?community=339901009001").content.decode()


def test_admin_wrong_file_and_permissions(admin_client, client_for, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    url = "/admin/addresses/standardaddress/import/"
    upload = io.BytesIO("案件名称,当事人\n甲,乙\n".encode("utf-8"))
    upload.name = "cases.csv"
    html = admin_client.post(url, {"action": "upload", "file": upload}).content.decode()
    assert "缺少“标准地址”列" in html
    assert client_for("demo_mediator").get(url).status_code in (302, 403)


# --- speed ------------------------------------------------------------------------------
def test_matching_speed(library):
    texts = sample_addresses() + [case[0] for case in CASES]
    batch = (texts * (10_000 // len(texts) + 1))[:10_000]
    matching.match("预热")  # load the index
    start = time.perf_counter()
    results = [matching.match(t) for t in batch]
    elapsed = time.perf_counter() - start
    print(f"\nmatch(): {len(batch)} texts in {elapsed:.2f} s = {len(batch) / elapsed:,.0f}/s")
    assert len(results) == 10_000 and sum(r.matched for r in results) > 7_000
    # repeated texts (the index and any cache warm) still match as they do alone
    expected = {text: (quality, standard) for text, quality, standard, _ in CASES}
    for text, r in zip(batch, results):
        if text in expected:
            assert (r.quality, r.standard.text if r.standard else None) == expected[text], text
    # loose: about 5,000/s on a shared two-core machine; a tenth of that means something broke
    assert elapsed < 20, f"10,000 个地址匹配用了 {elapsed:.1f} 秒（应远少于 20 秒）"


def test_admin_add_form_derives_codes_and_refuses_duplicates(admin_client):
    from addresses.models import StandardAddress
    from orgs.models import Region

    url = "/admin/addresses/standardaddress/add/"
    assert admin_client.get(url).status_code == 200
    grid = Region.objects.get(name="港口村第1网格")
    data = {"text": "示范区北港镇港口村和平路3号", "region": grid.pk, "longitude": "120.1", "latitude": "30.2",
            "source": "手工录入", "is_active": "on"}
    assert admin_client.post(url, data).status_code == 302
    obj = StandardAddress.objects.get()
    assert (obj.key, obj.street_code, obj.community_code, obj.grid_code) == (
        "和平路3号", "339901010", "339901010001", "33990101000101")
    assert obj.history.count() == 1
    again = admin_client.post(url, {**data, "text": "北港镇和平路３号"})
    assert again.status_code == 200 and "是同一地址" in again.content.decode()
    half = admin_client.post(url, {**data, "text": "示范区北港镇港口村和平路4号", "latitude": ""})
    assert "经度和纬度须同时填写" in half.content.decode()
