"""Shipped metadata as YAML (the engine's kinds): load → dump round trip, and site changes
survive upgrades. The same for every other registered kind: tests/test_metadata_kinds.py."""
from __future__ import annotations

import shutil

import yaml
from django.conf import settings
from django.core.management import call_command

from lowcode import metakinds, serialization
from lowcode.apps import ENGINE_KINDS
from lowcode.models import FieldDef, MetaVersion

SHIPPED = settings.BASE_DIR / "metadata"


def _files(kind, root):
    path = kind.path(root)
    return sorted(p.relative_to(root) for p in (path.glob("*.yaml") if kind.per_file else [path]))


def test_load_then_dump_reproduces_the_files_of_every_kind_byte_for_byte(db, tmp_path):
    call_command("load_metadata")
    call_command("dump_metadata", dir=str(tmp_path))
    assert {k.name for k in metakinds.kinds()} >= {*ENGINE_KINDS, "channels", "cleaning_rules", "warning_rules",
                                                  "warning_levels", "warning_keywords", "warning_settings",
                                                  "dedup_settings"}
    for kind in metakinds.kinds():
        shipped = _files(kind, SHIPPED)
        assert shipped and _files(kind, tmp_path) == shipped, kind.name
        for name in shipped:
            assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name


def test_loading_twice_changes_nothing(db):
    serialization.load_metadata()
    report = serialization.load_metadata()
    assert report.created == report.updated == 0 and not report.kept_site_changes


def test_upgrade_keeps_a_site_change_and_applies_untouched_defaults(metadata, tmp_path):
    # the district renamed one field; then a new release changes two shipped fields
    site = FieldDef.objects.get(entity="case", code="title")
    site.label = "纠纷名称"
    site.save()
    assert site.is_customised
    shutil.copytree(SHIPPED, tmp_path / "v2")
    fields = yaml.safe_load((tmp_path / "v2" / "fields.yaml").read_text(encoding="utf-8"))
    for row in fields:
        if row["code"] == "title":
            row["label"] = "案件名称"
        if row["code"] == "address":
            row["label"] = "事发地址"
    (tmp_path / "v2" / "fields.yaml").write_text(serialization.to_yaml(fields), encoding="utf-8")

    report = serialization.load_metadata(ENGINE_KINDS, tmp_path / "v2")

    assert FieldDef.objects.get(entity="case", code="title").label == "纠纷名称"       # site change kept
    assert FieldDef.objects.get(entity="case", code="address").label == "事发地址"     # default upgraded
    assert report.kept_site_changes == ["fields.yaml:case/title"]
    title = FieldDef.objects.get(entity="case", code="title")
    assert title.shipped["label"] == "案件名称" and title.is_customised


def test_site_changes_are_visible_against_shipped_defaults(metadata, client_for):
    field = FieldDef.objects.get(entity="case", code="address")
    field.label = "事发地点"
    field.save()
    c = client_for("demo_config")
    listing = c.get("/admin/lowcode/fielddef/", {"customised": "1"}).content.decode()
    assert "事发地点" in listing and "案件标题" not in listing
    page = c.get(f"/admin/lowcode/fielddef/{field.pk}/change/").content.decode()
    assert "出厂（已本地修改）" in page and "纠纷发生地" in page


def test_every_metadata_save_bumps_the_version(metadata):
    before = MetaVersion.objects.get(pk=1).version
    field = FieldDef.objects.get(entity="case", code="title")
    field.label = "标题"
    field.save()
    assert MetaVersion.objects.get(pk=1).version > before


def test_shipped_metadata_passes_its_own_validation(metadata):
    serialization.load_metadata()
    for model in metakinds.metadata_models():
        assert model.objects.exists(), model
        for obj in model.objects.all():
            obj.full_clean()


def test_a_property_added_by_an_upgrade_is_not_mistaken_for_a_site_change(metadata, tmp_path):
    # a record loaded by an older release: its snapshot lacks a property added since (attrs)
    from lowcode.models import DictItem

    item = DictItem.objects.get(dictionary__code="case_type", code="neighbor")
    snapshot = dict(item.shipped)
    snapshot.pop("attrs")
    DictItem.objects.filter(pk=item.pk).update(shipped=snapshot, attrs={})
    serialization.load_metadata(["dictionaries"])
    item.refresh_from_db()
    assert item.attrs == {"time_limit_days": 15}
