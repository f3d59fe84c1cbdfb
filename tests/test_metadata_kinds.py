"""Every metadata kind goes through one loader (lowcode.metakinds + lowcode.serialization):
upgrades reach records the site never changed, site changes survive them, bad files change
nothing, and a kind registered with one call loads, dumps and shows its site changes."""
from __future__ import annotations

import shutil

import pytest
import yaml
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError

from lowcode import changelog, metakinds
from lowcode.admin import MetaRecordAdmin
from lowcode.serialization import MetadataError, dump_metadata, load_metadata, to_yaml

pytestmark = pytest.mark.backend  # depends on the database backend: loading records with explicit keys (sequences)

SHIPPED = settings.BASE_DIR / "metadata"


class Release:
    """A copy of the shipped metadata to edit as "the next release"."""

    def __init__(self, root):
        shutil.copytree(SHIPPED, root)
        self.root = root

    def edit(self, relative, change):
        path = self.root / relative
        data = change(yaml.safe_load(path.read_text(encoding="utf-8")))
        path.write_text(to_yaml(data), encoding="utf-8")


@pytest.fixture
def release(tmp_path):
    return Release(tmp_path / "v2")


def _rows_by(key, **changes):
    def change(rows):
        for row in rows:
            for k, v in changes.get(row[key], {}).items():
                row[k] = v
        return rows
    return change


# --- upgrades, kind by kind --------------------------------------------------------------------
def test_a_site_edited_warning_rule_survives_an_upgrade_an_unedited_one_follows(db, release):
    from extensions.escalation.models import WarningRule

    load_metadata(["warning_rules"])
    WarningRule.objects.filter(code="overdue").update(level="orange")  # the district's own call
    site = WarningRule.objects.get(code="overdue")
    site.name = "超期未结（本区）"
    site.save()
    release.edit("escalation/rules.yaml", _rows_by("code", overdue={"priority": 99},
                                                   key_person={"message": "涉及重点人员（升级后）"}))

    report = load_metadata(["warning_rules"], release.root)

    site = WarningRule.objects.get(code="overdue")
    assert site.name == "超期未结（本区）" and site.priority != 99          # kept as the site left it
    assert site.shipped["priority"] == 99 and site.is_customised         # only its snapshot moved
    assert WarningRule.objects.get(code="key_person").message == "涉及重点人员（升级后）"
    assert report.updated == 1 and report.kept_site_changes == ["escalation/rules.yaml:overdue"]


def test_an_unedited_dedup_weight_follows_an_upgrade_an_edited_one_stays(db, release):
    from extensions.dedup.conf import get_settings

    settings_record = get_settings()  # a database that never ran load_metadata: loaded on first use
    assert settings_record.origin == "shipped" and not settings_record.is_customised
    release.edit("dedup/default.yaml", lambda d: {**d, "weights": {**d["weights"], "text": 0.65}})
    load_metadata(["dedup_settings"], release.root)
    assert get_settings().weights["text"] == 0.65

    edited = get_settings()
    edited.same_threshold = 0.7
    edited.save()
    release.edit("dedup/default.yaml", lambda d: {**d, "weights": {**d["weights"], "text": 0.7}})
    load_metadata(["dedup_settings"], release.root)
    after = get_settings()
    assert after.same_threshold == 0.7 and after.weights["text"] == 0.65 and after.is_customised


def test_a_dedup_record_from_the_old_create_on_first_use_is_recognised_as_unedited(db, release):
    # before the registry, get_settings stored the YAML mapping as its snapshot (code and name included)
    from extensions.dedup.conf import shipped
    from extensions.dedup.models import DedupSettings

    values = shipped()
    DedupSettings.objects.create(**values, origin="shipped", shipped=values)
    release.edit("dedup/default.yaml", lambda d: {**d, "max_candidates": 200})
    report = load_metadata(["dedup_settings"], release.root)
    assert DedupSettings.objects.get().max_candidates == 200 and report.updated == 1


def test_a_site_edited_cleaning_rule_keeps_its_edit_and_common_changes_reach_the_others(db, release):
    from clues.models import CleaningRule

    load_metadata(["cleaning_rules"])
    rule = CleaningRule.objects.get(source="xltj")
    rule.status_default = "mediating"
    rule.save()
    release.edit("cleaning/_common.yaml", lambda d: {**d, "type_map": {**d["type_map"], "欠薪纠纷": "labor_wage"}})

    report = load_metadata(["cleaning_rules"], release.root)

    kept = CleaningRule.objects.get(source="xltj")
    assert kept.status_default == "mediating" and "欠薪纠纷" not in kept.type_map
    assert kept.shipped["type_map"]["欠薪纠纷"] == "labor_wage"          # the diff shows what it misses
    assert CleaningRule.objects.get(source="odr").type_map["欠薪纠纷"] == "labor_wage"
    police = CleaningRule.objects.get(source="police110").type_map  # its own map, merged over the common one
    assert police["欠薪纠纷"] == "labor_wage" and police["纠纷-交通事故"] == "traffic"
    assert report.kept_site_changes == ["cleaning/xltj.yaml"]


def test_a_rule_that_drops_a_common_entry_dumps_it_as_null_and_loads_back_without_it(db, tmp_path):
    from clues.models import CleaningRule
    from lowcode.serialization import shipped_values

    load_metadata(["cleaning_rules"])
    rule = CleaningRule.objects.get(source="odr")
    rule.type_map = {k: v for k, v in rule.type_map.items() if k != "邻里纠纷"}
    rule.save()
    dump_metadata(tmp_path, ["cleaning_rules"])
    assert "邻里纠纷: null" in (tmp_path / "cleaning" / "odr.yaml").read_text(encoding="utf-8")
    assert shipped_values("cleaning_rules", tmp_path)[("odr",)]["type_map"] == rule.type_map


def test_channels_migrated_without_a_snapshot_become_shipped_and_a_renamed_one_is_kept(db, release):
    from clues.models import Channel

    # rows as the migration leaves them: origin "site", no snapshot; the district renamed one
    Channel.objects.all().delete()
    Channel.objects.create(key="odr", name="在线矛盾纠纷多元化解平台", kind="case", sort=70)
    Channel.objects.create(key="minhu", name="民呼我为（本区）", kind="event", sort=30)
    release.edit("channels.yaml", _rows_by("key", odr={"sort": 75}, minhu={"sort": 35}))
    load_metadata(["channels"])              # this release: recognises odr as unedited
    load_metadata(["channels"], release.root)  # the next one upgrades it
    odr, minhu = Channel.objects.get(key="odr"), Channel.objects.get(key="minhu")
    assert odr.origin == "shipped" and odr.sort == 75 and not odr.is_customised
    assert minhu.name == "民呼我为（本区）" and minhu.sort == 30 and minhu.is_customised


def test_records_the_site_added_are_left_alone(db, release):
    from extensions.escalation.models import WarningKeyword

    load_metadata(["warning_keywords"])
    WarningKeyword.objects.create(word="砸车", category="violence")
    release.edit("escalation/keywords.yaml", lambda rows: rows + [{"word": "砸店"}])
    load_metadata(["warning_keywords"], release.root)
    assert WarningKeyword.objects.get(word="砸车").origin == "site"
    assert WarningKeyword.objects.get(word="砸店").origin == "shipped"


# --- bad files: a Chinese message, nothing half-written -----------------------------------------
def test_a_bad_file_is_refused_with_a_chinese_message_and_nothing_is_written(db, release):
    from extensions.escalation.models import WarningLevel, WarningRule

    load_metadata(["warning_rules"])
    release.edit("escalation/levels.yaml", _rows_by("key", red={"label": "特红"}))
    release.edit("escalation/rules.yaml", _rows_by("code", overdue={"condition": "超期天数 >"}))

    with pytest.raises(MetadataError, match="escalation/rules.yaml:overdue：.*语法错误"):
        load_metadata(["warning_rules"], release.root)
    assert WarningLevel.objects.get(key="red").label == "红色预警"     # the level upgrade rolled back
    assert WarningRule.objects.get(code="overdue").condition != "超期天数 >"

    release.edit("escalation/keywords.yaml", lambda rows: rows + [rows[0]])
    with pytest.raises(MetadataError, match="出现了两次"):
        load_metadata(["warning_keywords"], release.root)

    release.edit("escalation/keywords.yaml", lambda rows: rows[:-1] + [{"word": "砸店", "colour": "red"}])
    with pytest.raises(CommandError, match="未知属性 colour"):
        call_command("load_metadata", dir=str(release.root), kind=["warning_keywords"])


# --- one register() call is all a new kind needs -----------------------------------------------
@pytest.fixture
def views_kind():
    kind = metakinds.register("test_list_views", model="lowcode.ListView", file="extra/views.yaml",
                              key=("entity", "role"))
    yield kind
    metakinds.unregister("test_list_views")


def test_a_kind_registered_in_a_test_loads_dumps_and_diffs_with_no_other_code(metadata, tmp_path, views_kind):
    from lowcode.models import ListView

    source = tmp_path / "shipped"
    (source / "extra").mkdir(parents=True)
    text = ("# 试验用的列表配置\n"
            "- entity: case\n  role: dept_user\n  columns: [title, status]\n  page_size: 30\n")
    (source / "extra" / "views.yaml").write_text(text, encoding="utf-8")

    report = load_metadata(["test_list_views"], source)
    view = ListView.objects.get(entity="case", role="dept_user")
    assert report.created == 1 and view.origin == "shipped" and view.page_size == 30

    ListView.objects.exclude(pk=view.pk).delete()  # only this kind's record in the table
    dump_metadata(source, ["test_list_views"])  # written back in place: its comment lines kept
    assert (source / "extra" / "views.yaml").read_text(encoding="utf-8") == text

    view.page_size = 50
    view.save()
    diff = MetaRecordAdmin(ListView, admin.site).shipped_diff(view)
    assert "出厂 30 → 本地 50" in diff
    assert ListView in changelog.tracked_models()


# --- the shipped-vs-site screens and the change log cover the formerly separate kinds -----------
def test_dedup_settings_and_channels_show_their_site_changes_in_the_admin(world, client_for):
    from clues.models import Channel
    from extensions.dedup.conf import get_settings

    load_metadata(["channels"])
    record = get_settings()
    record.same_threshold = 0.6
    record.save()
    page = client_for("demo_config").get(f"/admin/dedup/dedupsettings/{record.pk}/change/").content.decode()
    assert "出厂（已本地修改）" in page and "出厂 0.55 → 本地 0.6" in page

    channel = Channel.objects.get(key="minhu")
    channel.name = "民呼我为（本区）"
    channel.save()
    admin_client = client_for("demo_district")
    listing = admin_client.get("/admin/clues/channel/", {"customised": "1"}).content.decode()
    assert "民呼我为（本区）" in listing and "12345热线" not in listing


def test_the_change_log_lists_every_registered_kind(db):
    tracked = changelog.tracked_models()
    for kind in metakinds.kinds():
        assert kind.model_class in tracked, kind.name


def test_restore_shipped_puts_site_changes_back_for_any_kind(metadata, client_for):
    from extensions.escalation.models import WarningRule
    from lowcode.models import DictItem

    load_metadata(["warning_rules"])
    rule = WarningRule.objects.get(code="overdue")
    shipped_name = rule.name
    rule.name = "超期未结（本区）"
    rule.save()
    item = DictItem.objects.get(dictionary__code="case_type", code="neighbor")
    item.label = "邻里矛盾"
    item.save()
    c = client_for("demo_config")

    response = c.post("/admin/escalation/warningrule/", {"action": "restore_shipped", "_selected_action": [rule.pk]},
                      follow=True)
    assert "已恢复出厂值 1 条" in response.content.decode()
    rule.refresh_from_db()
    assert rule.name == shipped_name and not rule.is_customised
    assert rule.history.first().history_change_reason == "恢复出厂值"

    c.post("/admin/lowcode/dictitem/", {"action": "restore_shipped", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.label == "邻里纠纷" and item.dictionary.code == "case_type"
