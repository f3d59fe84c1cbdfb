"""Every registered metadata kind bumps the metadata version when a record is saved or deleted,
so a screen that caches metadata by version shows an admin's change on the next request, in
every process, without a restart (the warning levels of the case list, here)."""
from __future__ import annotations

import pytest

from extensions.escalation import evaluate
from extensions.escalation.models import WarningLevel
from lowcode import metakinds
from lowcode.registry import read_version
from lowcode.serialization import load_metadata
from tests.test_escalation import quiet_case  # noqa: F401 (fixture)


pytestmark = pytest.mark.backend  # depends on the database backend: version counter updates


def test_saving_a_record_of_any_kind_bumps_the_metadata_version(db):
    load_metadata()
    for kind in metakinds.kinds():
        for model in kind.models():
            record = model.objects.first()
            assert record is not None, model
            before = read_version()
            record.save()
            assert read_version() != before, f"{kind.name}: saving a {model.__name__} left the version"
    before = read_version()
    WarningLevel.objects.get(key="green").delete()
    assert read_version() != before


def test_a_warning_level_renamed_in_the_admin_shows_on_the_case_list_at_once(quiet_case, client_for):  # noqa: F811
    load_metadata(["warning_levels"])
    case = quiet_case(title="持刀纠纷甲", description="对方持刀威胁")
    evaluate.evaluate_cases([case.pk])
    c = client_for("demo_mediator")
    assert "红色预警</span>" in c.get("/admin/cases/case/").content.decode()

    red = WarningLevel.objects.get(key="red")
    red.label = "一级预警"
    red.save()  # what the 预警级别 admin's save does

    page = c.get("/admin/cases/case/").content.decode()
    assert "一级预警</span>" in page and "红色预警</span>" not in page
