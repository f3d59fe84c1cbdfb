"""政钉 organisation and user sync (M-1.9 “对政钉用户进行获取及对用户赋权”).

scopes (deptVisibleScopes) → the organisation tree, paged → each organisation's employees, paged
→ their accountIds (batches of 100). Each employee becomes (or updates) a local account bound by
accountId, placed in a region/organisation by the district admin's mapping rules (the nearest
mapped ancestor organisation wins). New accounts get NO role and no usable password: they can do
nothing until an administrator grants a role, and they log in only through 政钉.

Incremental: an employee whose synced data (name, organisation, mapping) did not change is only
counted; the run is recorded (SyncRun) with its counts or its error. Idempotent: running it
twice changes nothing the second time."""
from __future__ import annotations

import hashlib
import json
import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from integrations.http import IntegrationError
from integrations.models import ExternalAccount, ExternalOrg, ExternalSystem, OrgMapping, SyncRun
from integrations.zzd import Client

BATCH = 100


def _batches(items: list, size: int = BATCH):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def fetch_tree(client: Client) -> dict[str, dict]:
    tenant = client.system.tenant_id
    scopes = client.call("POST", "/auth/scopesV2", {"tenantId": tenant})
    roots = list(scopes.get("deptVisibleScopes") or (scopes.get("data") or {}).get("deptVisibleScopes") or [])
    orgs: dict[str, dict] = {}
    todo = list(roots)
    while todo:
        level, todo = todo, []
        for chunk in _batches([c for c in level if c not in orgs]):
            for org in client.call("POST", "/mozi/organization/listOrganizationsByCodes",
                                   {"tenantId": tenant, "organizationCodes": chunk}).get("data") or []:
                orgs[org["organizationCode"]] = org
        for code in level:
            todo.extend(c for c in client.pages("/mozi/organization/pageSubOrganizationCodes",
                                                {"tenantId": tenant, "organizationCode": code, "status": "A"})
                        if c not in orgs)
    return orgs


def rule_for(code: str, parents: dict[str, str], rules: dict[str, OrgMapping]) -> OrgMapping | None:
    seen = set()
    while code and code not in seen:
        if code in rules:
            return rules[code]
        seen.add(code)
        code = parents.get(code, "")
    return None


def _username(account_id: str) -> str:
    return "zzd_" + re.sub(r"[^A-Za-z0-9_.@+-]", "_", account_id)[:140]


def run(system: ExternalSystem) -> SyncRun:
    record = SyncRun.objects.create(system=system)
    try:
        client = Client(system)
        orgs = fetch_tree(client)
        parents = {c: o.get("parentCode") or "" for c, o in orgs.items()}
        with transaction.atomic():
            for code, org in orgs.items():
                ExternalOrg.objects.update_or_create(system=system, code=code, defaults={
                    "name": (org.get("organizationName") or code)[:128], "parent_code": parents[code][:64],
                    "synced_at": timezone.now()})
        rules = {r.org_code: r for r in OrgMapping.objects.filter(system=system).select_related("region", "organization")}
        employees: dict[str, tuple[dict, str]] = {}
        for code in orgs:
            for emp in client.pages("/mozi/organization/pageOrganizationEmployeePositions",
                                    {"tenantId": system.tenant_id, "organizationCode": code, "employeeStatus": "A"}):
                employees.setdefault(emp["employeeCode"], (emp, code))
        accounts: dict[str, str] = {}
        for chunk in _batches(sorted(employees)):
            for row in client.call("POST", "/mozi/employee/listEmployeeAccountIds",
                                   {"tenantId": system.tenant_id, "employeeCodes": chunk}).get("data") or []:
                if row.get("accountId") not in (None, ""):
                    accounts[row["employeeCode"]] = str(row["accountId"])
        for emp_code, (emp, org_code) in sorted(employees.items()):
            account_id = accounts.get(emp_code)
            if not account_id:
                continue
            rule = rule_for(org_code, parents, rules)
            outcome = _apply(system, account_id, emp_code, emp.get("employeeName") or "", org_code, rule)
            setattr(record, f"users_{outcome}", getattr(record, f"users_{outcome}") + 1)
        record.orgs, record.ok = len(orgs), True
    except IntegrationError as exc:
        record.message = str(exc)[:500]
    record.finished_at = timezone.now()
    record.save()
    return record


@transaction.atomic
def _apply(system, account_id: str, emp_code: str, name: str, org_code: str, rule) -> str:
    region = rule.region if rule else None
    organization = rule.organization if rule else None
    digest = hashlib.sha256(json.dumps([name, org_code, getattr(region, "pk", None),
                                        getattr(organization, "pk", None)]).encode()).hexdigest()
    bound = ExternalAccount.objects.select_related("user").filter(system=system, external_id=account_id).first()
    if bound is not None and bound.data_hash == digest:
        return "unchanged"
    User = get_user_model()
    if bound is None:
        user = User(username=_username(account_id), display_name=name[:32], region=region,
                    organization=organization, is_active=True)
        user.set_unusable_password()
        user.save()
        ExternalAccount.objects.create(system=system, user=user, external_id=account_id, employee_code=emp_code,
                                       external_name=name[:64], org_code=org_code, data_hash=digest,
                                       synced_at=timezone.now())
        return "new"
    user = bound.user
    user.display_name = name[:32] or user.display_name
    if rule is not None:  # a person moved between mapped organisations follows the rule
        user.region, user.organization = region, organization
    user.save(update_fields=["display_name", "region", "organization"])
    bound.employee_code, bound.external_name, bound.org_code = emp_code, name[:64], org_code
    bound.data_hash, bound.synced_at = digest, timezone.now()
    bound.save()
    return "updated"
