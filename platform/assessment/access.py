"""Who sees which assessment figures (accounts.scope is the one scope helper).

- the screens: anyone who may view cases (mediators, street and district staff, departments,
  third parties) or holds ``assessment.view_snapshot``;
- rows: a unit whose region lies in the user's region subtree (a district user sees everything,
  a street its communities and mediators, a community its mediators); a 职能部门 user sees only
  their department, a third-party account only their organisation — never anybody else's figures.
"""
from __future__ import annotations

from accounts.scope import department_id, region_prefix


def can_view(user) -> bool:
    return user.is_authenticated and user.is_active and (
        user.has_perm("cases.view_case") or user.has_perm("assessment.view_snapshot"))


def can_compute(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm("assessment.add_snapshot")


def own_org(user) -> tuple[str, str] | None:
    """(dimension, unit key) of the user's own organisation when it is a department or third party."""
    dept = department_id(user)
    if dept is not None:
        return "dept", str(dept)
    org = getattr(user, "organization", None) if getattr(user, "organization_id", None) else None
    if org is not None and org.kind == "third" and region_prefix(user) is None:
        return "third", str(org.pk)
    return None


def visible(user, dimension: str, rows):
    """The snapshot rows (a ``SnapshotRow`` queryset) this user may see."""
    if not can_view(user):
        return rows.none()
    if user.is_superuser:
        return rows
    prefix = region_prefix(user)
    if prefix is not None:
        return rows.filter(region_path__startswith=prefix)
    own = own_org(user)
    if own is not None and own[0] == dimension:
        return rows.filter(unit_key=own[1])
    return rows.none()


def visible_dimensions(user) -> list[str]:
    from assessment.models import DIMENSIONS

    if user.is_superuser or region_prefix(user) is not None:
        from orgs.models import Region

        level = user.region.level if getattr(user, "region_id", None) else Region.Level.DISTRICT
        dims = ["mediator"]
        if level <= Region.Level.COMMUNITY:
            dims.append("community")
        if level <= Region.Level.STREET:
            dims.append("street")
        if user.is_superuser or level <= Region.Level.DISTRICT:
            dims += ["dept", "third"]
        return [d for d, _ in DIMENSIONS if d in dims]
    own = own_org(user)
    return [own[0]] if own else []
