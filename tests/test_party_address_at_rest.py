"""Finding 5 (part): a party's home address (当事人住址) is SM4-encrypted at rest — in the party
table and in its history — existing rows are encrypted by a data migration, while the place of the
dispute (案件 纠纷发生地) stays a plain column the case list searches."""
from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection

from cases.models import Party

pytestmark = pytest.mark.backend  # depends on the database backend: encrypted columns


HOME = "示范区东湖街道湖滨路88号3幢2单元501室"


def stored(table: str, pk_column: str, pk) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT address FROM {table} WHERE {pk_column} = %s", [pk])
        return cur.fetchone()[0]


def test_home_address_is_ciphertext_in_the_table_and_its_history(make_case):
    case = make_case(parties=[{"name": "张三", "address": HOME}])
    party = case.parties.get()
    raw = stored("cases_party", "id", party.pk)
    assert raw.startswith("sm4gcm1:") and "湖滨路" not in raw
    history = party.history.latest()
    assert stored("cases_historicalparty", "history_id", history.history_id).startswith("sm4gcm1:")
    assert Party.objects.get(pk=party.pk).address == HOME  # read back in clear


def test_the_party_screens_show_and_keep_it(make_case, client_for):
    case = make_case(parties=[{"name": "张三", "address": HOME}])
    c = client_for("demo_mediator")
    assert HOME in c.get(f"/admin/cases/case/{case.pk}/detail/").content.decode()
    party = case.parties.get()
    form = c.get(f"/admin/cases/party/{party.pk}/change/").content.decode()
    assert HOME in form and 'type="text" name="address"' in form


def test_existing_clear_addresses_are_encrypted_by_the_migration(make_case):
    case = make_case(parties=[{"name": "张三", "address": HOME}, {"name": "李四", "address": ""}])
    first, second = case.parties.order_by("pk")
    with connection.cursor() as cur:  # as an older version stored it
        cur.execute("UPDATE cases_party SET address = %s WHERE id = %s", [HOME, first.pk])
        cur.execute("UPDATE cases_historicalparty SET address = %s WHERE id = %s", [HOME, first.pk])
    migration = importlib.import_module("cases.migrations.0008_encrypt_party_address_role_rights")
    migration.encrypt(django_apps, None)
    migration.encrypt(django_apps, None)  # twice: already encrypted rows are left alone
    assert stored("cases_party", "id", first.pk).startswith("sm4gcm1:")
    assert stored("cases_party", "id", second.pk) == ""
    with connection.cursor() as cur:
        cur.execute("SELECT address FROM cases_historicalparty WHERE id = %s", [first.pk])
        assert all(row[0].startswith("sm4gcm1:") for row in cur.fetchall())
    assert Party.objects.get(pk=first.pk).address == HOME


def test_the_dispute_place_stays_searchable(make_case, client_for):
    case = make_case(address="示范区湖滨社区幸福里小区5幢", parties=[{"name": "张三", "address": HOME}])
    assert stored("cases_case", "id", case.pk) == "示范区湖滨社区幸福里小区5幢"
    page = client_for("demo_mediator").get("/admin/cases/case/", {"q": "幸福里"}).content.decode()
    assert case.exchange_id in page
