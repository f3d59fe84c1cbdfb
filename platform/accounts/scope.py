"""The one row-level scoping helper. Every list, detail, export, search and API that returns
region-owned rows goes through ``scope_queryset`` (invariant, see docs/architecture.md).

A user sees their region subtree (district ⊃ street ⊃ community ⊃ grid); a superuser sees
everything; a user with neither region nor grants sees nothing (default deny)."""
from __future__ import annotations

from django.db.models import Q, QuerySet


def region_prefix(user) -> str | None:
    if not user.is_authenticated or not user.is_active:
        return None
    region = getattr(user, "region", None)
    return region.path if region is not None else None


def scope_q(user, path_field: str = "region_path") -> Q | None:
    """Q for the rows the user may see; None means everything (superuser)."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return None
    prefix = region_prefix(user)
    if prefix is None:
        return Q(pk__in=[])
    return Q(**{f"{path_field}__startswith": prefix})


def scope_queryset(user, queryset: QuerySet, path_field: str = "region_path") -> QuerySet:
    q = scope_q(user, path_field)
    return queryset if q is None else queryset.filter(q)


def regions_for(user):
    """Regions the user may assign records to (their subtree)."""
    from orgs.models import Region

    return scope_queryset(user, Region.objects.all(), "path")
