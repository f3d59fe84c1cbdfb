"""The channel list lives in one place (issue 12): the channels (线索与归集 › 数据来源) are the items
of the 事件来源 dictionary, so a channel renamed in its admin shows its new name wherever a case's
source is shown — the case list filter and column, the Excel template, the duplicate list's filter — with no dictionary edit."""
from __future__ import annotations

import io

import openpyxl
import pytest

LIST_URL = "/admin/cases/case/"
TEMPLATE_URL = "/admin/cases/case/excel/template/"
DEDUP_URL = "/admin/dedup/pair/"


@pytest.fixture
def channels(world):
    from clues.models import Channel

    assert Channel.objects.exists()  # the metadata fixture loads the channels with the engine's kinds
    return Channel


def rename_in_admin(client, channel, name: str):
    """Post the channel's own change form with a new name (what a business admin does)."""
    url = f"/admin/clues/channel/{channel.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if k in form.fields and v is not None}
    data.update({"name": name, "enabled": "on" if channel.enabled else ""})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    channel.refresh_from_db()
    assert channel.name == name


def template_text(response) -> str:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming
                                             else response.content))
    cells = [str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r if c.value is not None]
    notes = [str(c.comment.text) for ws in book.worksheets for r in ws.iter_rows() for c in r if c.comment]
    validations = [str(dv.formula1) for ws in book.worksheets for dv in ws.data_validations.dataValidation]
    return "\n".join(cells + notes + validations)


def test_a_channel_renamed_in_its_admin_is_renamed_in_the_case_filter_column_and_excel_template(
        channels, client_for, make_case):
    make_case(title="热线转来的纠纷", source="hotline12345")
    district, mediator = client_for("demo_district"), client_for("demo_mediator")
    page = mediator.get(LIST_URL).content.decode()
    assert "12345热线" in page and "市民热线" not in page

    rename_in_admin(district, channels.objects.get(key="hotline12345"), "市民热线")

    page = mediator.get(LIST_URL).content.decode()
    assert "市民热线" in page and "12345热线" not in page          # filter option and the case's column
    filtered = mediator.get(LIST_URL, {"source": "hotline12345"})
    assert "热线转来的纠纷" in filtered.content.decode()
    template = template_text(mediator.get(TEMPLATE_URL))
    assert "市民热线" in template and "12345热线" not in template
    duplicates = district.get(DEDUP_URL).content.decode()                # the duplicate list's 来源 filter
    assert "市民热线" in duplicates and "12345热线" not in duplicates and duplicates.count("本地登记") == 1


def test_the_event_source_dictionary_has_no_items_of_its_own(channels, metadata):
    from lowcode.models import DictItem

    assert not DictItem.objects.filter(dictionary__code="event_source").exists()
    names = dict(channels.objects.values_list("key", "name"))
    assert {c: e.label for c, e in metadata.get_dictionary("event_source").items()} == names


def test_the_dictionary_admin_points_to_the_channels_instead_of_offering_items(channels, client_for):
    from lowcode.models import Dictionary

    c = client_for("demo_config")
    page = c.get(f"/admin/lowcode/dictionary/{Dictionary.objects.get(code='event_source').pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "数据来源" in html and 'name="items-TOTAL_FORMS"' not in html   # no item rows to edit here
    listing = c.get("/admin/lowcode/dictionary/", {"q": "event_source"}).content.decode()
    assert f'<td class="field-item_count">{channels.objects.count()}</td>' in listing
