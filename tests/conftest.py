"""Shared fixtures: the shipped metadata, the demo district with one user per role, and
logged-in clients. Tests build on these rather than inventing their own worlds."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

DEMO_PASSWORD = "Mdtj@test-2026"


@pytest.fixture
def metadata(db):
    from lowcode import registry, serialization

    serialization.load(settings.BASE_DIR / "metadata")
    registry.clear_cache()
    return registry


@pytest.fixture
def world(metadata):
    """Regions (示范区 › 4 streets › communities › grids), organisations, roles, demo users."""
    from demo import seeding

    regions = seeding.ensure_regions()
    seeding.ensure_organizations(regions)
    seeding.ensure_users(DEMO_PASSWORD)
    return regions


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
