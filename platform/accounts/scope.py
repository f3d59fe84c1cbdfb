"""The one row-level scoping helper. Every list, detail, export, search and API that returns
region-owned rows goes through ``scope_queryset`` (invariant, see docs/architecture.md).

A user sees their region subtree (district ⊃ street ⊃ community ⊃ grid); a superuser sees
everything; a user with neither region nor grants sees nothing (default deny).

A user of a 职能部门 (organisation kind "dept", e.g. 人社局) is outside the region tree even though
their organisation sits at the district: they see only the cases referred (转办/交办) to their
organisation and not withdrawn (``cases.CaseReferral``) — least privilege (等保 访问控制 d).

Cases (and rows reached through ``case__region_path``) are also visible when granted per object
with django-guardian (``cases.view_case`` to the user or one of their groups — the dispatch award
grants the awarded third-party organisation's group). The grant tables are guardian's direct-FK
models for Case, found through guardian, so this module imports no domain app."""
from __future__ import annotations

from django.db.models import Q, QuerySet


DEPARTMENT_KIND = "dept"  # orgs.Organization.Kind.DEPARTMENT (no domain import at module level)


def region_prefix(user) -> str | None:
    if not user.is_authenticated or not user.is_active or department_id(user) is not None:
        return None
    region = getattr(user, "region", None)
    return region.path if region is not None else None


def department_id(user) -> int | None:
    """The user's organisation when it is a 职能部门 (their rows: the cases referred to it), else
    None. Reads the organisation once per user object (Django's FK cache)."""
    if not getattr(user, "organization_id", None) or not (user.is_authenticated and user.is_active):
        return None
    org = user.organization
    return org.pk if org is not None and org.kind == DEPARTMENT_KIND else None


def scope_q(user, path_field: str = "region_path", model=None) -> Q | None:
    """Q for the rows the user may see; None means everything (superuser). ``model``: the
    queried model, needed only to recognise Case itself on a plain ``region_path``."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return None
    prefix = region_prefix(user)
    if prefix is not None:
        return Q(**{f"{path_field}__startswith": prefix})
    return granted_q(user, path_field, model) or Q(pk__in=[])


def scope_queryset(user, queryset: QuerySet, path_field: str = "region_path") -> QuerySet:
    q = scope_q(user, path_field, queryset.model)
    return queryset if q is None else queryset.filter(q)


def granted_q(user, path_field: str = "region_path", model=None) -> Q | None:
    """Cases granted to the user per object (guardian ``cases.view_case`` to the user or one of
    their groups) or referred to their department, as a Q on the queried rows; None when the
    path does not lead to a case. Only users outside the region tree (third-party organisations,
    departments) hold grants: a user with a region gets no extra subquery, so region-scoped lists
    keep their plain indexed prefix filter."""
    from django.apps import apps

    if not (user.is_authenticated and user.is_active) or region_prefix(user) is not None:
        return None
    case_model = apps.get_model("cases", "Case")
    if path_field == "region_path" and model is case_model:
        lookup = "pk__in"
    elif path_field.endswith("case__region_path"):
        lookup = path_field[: -len("region_path")] + "in"
    else:
        return None
    q = None
    for sub in _granted_case_ids(user, case_model) + _referred_case_ids(user):
        q = Q(**{lookup: sub}) if q is None else q | Q(**{lookup: sub})
    return q


def _granted_case_ids(user, case_model) -> list:
    """Subqueries of granted case ids — guardian's direct-FK tables only (the generic table keeps
    text ids that cannot be joined on the case key)."""
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    perm = {"permission__codename": "view_case", "permission__content_type__app_label": "cases"}
    out = []
    user_perms, group_perms = get_user_obj_perms_model(case_model), get_group_obj_perms_model(case_model)
    if not user_perms.objects.is_generic():
        out.append(user_perms.objects.filter(user=user, **perm).values("content_object_id"))
    if not group_perms.objects.is_generic():
        out.append(group_perms.objects.filter(group__user=user, **perm).values("content_object_id"))
    return out


def _referred_case_ids(user) -> list:
    """Subquery of the case ids referred to the user's department (open or answered)."""
    from django.apps import apps

    dept = department_id(user)
    if dept is None:
        return []
    referral = apps.get_model("cases", "CaseReferral")
    return [referral.objects.filter(department_id=dept, state__in=referral.VISIBLE_STATES).values("case_id")]


def case_viewers_q(case) -> Q:
    """The dual of ``scope_q`` for one case: a Q on User rows matching exactly the users whose
    scope contains ``case`` (row scope only; function rights are the caller's). Lets a caller
    filter many recipients in one query (notices.actions.notify) instead of one per user."""
    from django.apps import apps

    path = case.region_path
    ancestors = [path[:i + 1] for i, ch in enumerate(path) if ch == "/"]
    in_dept = Q(organization__kind=DEPARTMENT_KIND)
    region_user = Q(region__path__in=ancestors) & ~in_dept
    referral = apps.get_model("cases", "CaseReferral")
    referred = in_dept & Q(organization__in=referral.objects.filter(
        case_id=case.pk, state__in=referral.VISIBLE_STATES).values("department_id"))
    granted = Q(pk__in=[])
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    perm = {"permission__codename": "view_case", "permission__content_type__app_label": "cases"}
    user_perms, group_perms = get_user_obj_perms_model(type(case)), get_group_obj_perms_model(type(case))
    if not user_perms.objects.is_generic():
        granted |= Q(pk__in=user_perms.objects.filter(content_object_id=case.pk, **perm).values("user_id"))
    if not group_perms.objects.is_generic():
        granted |= Q(groups__in=group_perms.objects.filter(content_object_id=case.pk, **perm).values("group_id"))
    outside_tree = Q(region__isnull=True) | in_dept
    return Q(is_active=True) & (Q(is_superuser=True) | region_user | referred | (outside_tree & granted))


def regions_for(user):
    """Regions the user may assign records to (their subtree)."""
    from orgs.models import Region

    return scope_queryset(user, Region.objects.all(), "path")


def internal_staff(user) -> bool:
    """Government staff, not a member of a third-party mediation organisation: the internal screens
    (审核, 当事人, 案件档案, 预警名单, 重点人员 …) are shown in the menu and opened only for them; a third
    party works its awarded cases on its own end (partners)."""
    from orgs.models import Organization

    org = getattr(user, "organization", None) if user.is_authenticated else None
    return org is None or org.kind != Organization.Kind.THIRD_PARTY


class InternalScreenMixin:
    """For a ModelAdmin of an internal screen: not in a third party's menu, not opened by it."""

    def has_module_permission(self, request):
        return internal_staff(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return internal_staff(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return internal_staff(request.user) and super().has_change_permission(request, obj)
