"""Shared fixtures: the shipped metadata, the demo district with one user per role, and
logged-in clients. Tests build on these rather than inventing their own worlds."""
from __future__ import annotations

import os

import pytest
from django.test import Client

DEMO_PASSWORD = "Mdtj@test-2026"


def pytest_collection_modifyitems(config, items):
    """The whole suite runs on SQLite; on another backend (PostgreSQL in CI) only the tests marked
    ``backend`` or ``postgres`` run — a screen's layout or a masking rule does not change with the
    database, and running everything twice would double CI for nothing. ALL_TESTS=1 runs all."""
    from django.db import connections

    if connections["default"].vendor == "sqlite" or os.environ.get("ALL_TESTS") == "1":
        return
    keep, drop = [], []
    for item in items:
        marked = item.get_closest_marker("backend") or item.get_closest_marker("postgres")
        (keep if marked else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --- the shipped metadata and the demo district, built once per test database ----------------
# Seeding them costs about two seconds; done for each of ~1,000 tests it was a third of CI. They
# are committed once when the test database is created, and every test's transaction rolls back
# its own changes. A transactional test (live server, row locks) ends with a flush that empties
# every table, so the seed is committed again after it (pytest_runtest_teardown below), and the
# fixtures below seed inside the test as a fallback.

def _metadata_present() -> bool:
    from lowcode.models import FieldDef

    return FieldDef.objects.exists()


def _seed_metadata() -> None:
    from lowcode.apps import ENGINE_KINDS
    from lowcode.serialization import load_metadata

    load_metadata([*ENGINE_KINDS, "channels"])  # the channels are the 事件来源 dictionary's items


def _world_present() -> bool:
    from accounts.models import User

    return User.objects.filter(username="demo_district").exists()


def _seed_world() -> dict:
    from demo import seeding

    regions = seeding.ensure_regions()
    seeding.ensure_organizations(regions)
    seeding.ensure_users(DEMO_PASSWORD)
    return regions


def _seed_everything() -> None:
    from lowcode import registry

    if not _metadata_present():
        _seed_metadata()
    if not _world_present():
        _seed_world()
    registry.clear_cache()


# Rows the migrations themselves create (task schedules, the audit chain head …), kept as they
# were when the test database was created: a flush empties them too, and is followed by a restore.
_MIGRATION_ROWS: list[tuple[type, str]] = []


def _migration_rows() -> list[tuple[type, str]]:
    from django.apps import apps
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core import serializers

    out = []
    for model in apps.get_models():
        # content types and permissions come back with the flush's post_migrate signal
        if model in (ContentType, Permission) or not model._meta.managed or model._meta.proxy:
            continue
        if model.objects.exists():
            out.append((model, serializers.serialize("json", model.objects.all())))
    return out


def _restore_migration_rows() -> None:
    from django.core import serializers
    from django.db import transaction

    with transaction.atomic():  # foreign keys checked at the end, whatever the order of models
        for model, data in _MIGRATION_ROWS:
            if model.objects.exists():  # the flush's post_migrate signal made them again
                continue
            for obj in serializers.deserialize("json", data):
                obj.save()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _MIGRATION_ROWS[:] = _migration_rows()
        _seed_everything()


def _uses_db(item) -> bool:
    names = getattr(item, "fixturenames", ())
    return bool(item.get_closest_marker("django_db") or "db" in names or _is_transactional(item))


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    return bool((marker and marker.kwargs.get("transaction")) or "transactional_db" in names
                or "live_server" in names)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    # after the flush that ended a transactional test: seed again for the tests that follow
    if _is_transactional(item) and nextitem is not None and _uses_db(nextitem):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            _restore_migration_rows()
            _seed_everything()


@pytest.fixture
def metadata(db):
    from lowcode import registry

    if not _metadata_present():
        _seed_metadata()
    registry.clear_cache()
    return registry


@pytest.fixture
def world(metadata):
    """Regions (示范区 › 4 streets › communities › grids), organisations, roles, demo users."""
    from orgs.models import Region

    if not _world_present():
        return _seed_world()
    return {r.code: r for r in Region.objects.all()}


@pytest.fixture(autouse=True)
def force_login_passes_second_factor(monkeypatch):
    """``Client.force_login`` skips the login procedure, so it skips the second factor too: after
    it the session is verified the way django-otp's ``otp_login`` does it (a confirmed TOTP device
    of the user's, its id in the session). The second factor stays on; the tests of the login
    procedure itself (test_login_security, test_second_factor, test_passwords) post to the login
    pages instead."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        mark_second_factor_passed(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def fresh_security_policy():
    """The security policy is cached per process (accounts.policy): a test's policy row, rolled
    back with its transaction, must not outlive it in the cache."""
    from accounts import policy

    policy.clear_cache()
    yield
    policy.clear_cache()


@pytest.fixture(autouse=True)
def fresh_analysis_figures():
    """Figures cached from the rollups (analysis.datacache) are keyed by a version kept in the
    cache, which outlives a test's rolled-back rows: each test starts on a new version."""
    from analysis import datacache

    datacache.invalidate()


@pytest.fixture(autouse=True)
def fresh_warning_configuration():
    """The warning configuration is cached per metadata version in each process
    (extensions.escalation.subscribers); a test's rules, rolled back with its transaction, must
    not reach the next test through that cache."""
    from extensions.escalation import subscribers

    subscribers._config_cache = None
    yield
    subscribers._config_cache = None


def mark_second_factor_passed(client, user) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
              or TOTPDevice.objects.create(user=user, name="测试设备", confirmed=True))
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def client_for(world):
    def make(username: str) -> Client:
        c = Client()
        c.force_login(_user(username))
        return c
    return make


def _user(username):
    from accounts.models import User

    return User.objects.get(username=username)


@pytest.fixture
def make_case(world):
    """make_case(region_name="湖滨社区", case_type="neighbor", **fields) with one applicant."""
    from cases.models import Case, Party
    from orgs.models import Region

    def make(region_name: str = "湖滨社区", case_type: str = "neighbor", parties=None, **fields):
        region = Region.objects.get(name=region_name)
        case = Case.objects.create(title=fields.pop("title", f"{region_name}测试纠纷"),
                                   description=fields.pop("description", "双方因琐事发生争执"),
                                   case_type=case_type, region=region, **fields)
        for p in parties if parties is not None else [{"name": "张三", "id_number": "11010519491231002X",
                                                      "phone": "13800138000"}]:
            Party.objects.create(case=case, role=p.pop("role", "applicant"), **p)
        return case
    return make
