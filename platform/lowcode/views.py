"""Small JSON endpoints for generated screens."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_POST

from lowcode import expressions, registry


def _coerce(spec, raw: list[str]):
    if spec.fieldtype == "multi_select":
        return raw
    value = raw[-1] if raw else ""
    if spec.fieldtype == "check":
        return value in ("on", "true", "1", "True")
    if value == "":
        return None
    if spec.fieldtype in ("int", "decimal"):
        try:
            return float(Decimal(value))
        except (InvalidOperation, ValueError):
            return None
    return value


@login_required
@require_POST
def form_rules(request, entity: str):
    """Which conditional fields are hidden / required for the values being typed. The browser
    asks the server, so the one safe evaluator decides (no second expression engine in JS)."""
    if entity not in registry.entities():
        raise Http404("未知业务对象")
    meta = registry.get_meta(entity)
    values = {}
    for code, spec in meta.fields.items():
        v = _coerce(spec, request.POST.getlist(code))
        values[code] = values[spec.label] = v
    hidden, required = [], []
    for code, spec in meta.fields.items():
        if spec.depends_on and not expressions.holds(spec.depends_on, values):
            hidden.append(code)
        elif (spec.reqd and spec.depends_on) or (
                spec.mandatory_depends_on and expressions.holds(spec.mandatory_depends_on, values)):
            required.append(code)
    return JsonResponse({"hidden": hidden, "required": required, "version": meta.version})
