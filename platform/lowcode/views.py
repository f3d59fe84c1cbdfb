"""Small JSON endpoints for generated screens."""
from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_POST

from lowcode import expressions, registry
from lowcode.forms import expression_values, posted_values
from lowcode.lists import raw_value

TRY_SAMPLE = 500


def sample_label(obj) -> str:
    """A 试算 example names the record, not the people in it: its number when it has one
    (a case's 案件编号), else its text masked (a party: 张*)."""
    from secure.samples import mask_name

    number = getattr(obj, "exchange_id", None) or getattr(obj, "record_key", None)
    return str(number) if number else mask_name(str(obj))


@login_required
@require_POST
def form_rules(request, entity: str):
    """Which conditional fields are hidden / required for the values being typed. The browser
    asks the server, so the one safe evaluator decides (no second expression engine in JS)."""
    if entity not in registry.entities():
        raise Http404("未知业务对象")
    meta = registry.get_meta(entity)
    values = meta.expression_values(posted_values(meta, request.POST))
    hidden, required = [], []
    for code, spec in meta.fields.items():
        if not spec.conditional:
            continue
        if not spec.visible_when(values):
            hidden.append(code)
        elif spec.required_when(values) and not spec.required_always:  # the page marks those already
            required.append(code)
    return JsonResponse({"hidden": hidden, "required": required, "version": meta.version})


@login_required
@require_POST
def try_expression(request, entity: str):
    """试算: evaluate an expression, before saving it, on the latest records the user may see
    (through the entity's admin queryset, so the row-level scope applies)."""
    if entity not in registry.entities():
        raise Http404("未知业务对象")
    if not request.user.has_perm("lowcode.change_fielddef") and not request.user.has_perm("lowcode.add_fielddef"):
        raise PermissionDenied
    source = request.POST.get("expression", "").strip()
    meta = registry.get_meta(entity)
    try:
        expressions.validate(source, meta.expression_names)
    except expressions.ExpressionError as exc:
        return JsonResponse({"ok": False, "error": str(exc)})
    if not source:
        return JsonResponse({"ok": False, "error": "请先填写表达式"})
    model_admin = admin.site.get_model_admin(registry.entity_config(entity).model)
    rows = list(model_admin.get_queryset(request).order_by("-pk")[:TRY_SAMPLE])
    matched, errors, examples = 0, 0, []
    for obj in rows:
        values = expression_values(meta, {c: raw_value(entity, obj, s) for c, s in meta.fields.items()})
        try:
            hit = bool(expressions.evaluate(source, values))
        except expressions.ExpressionError:
            errors += 1
            continue
        if hit:
            matched += 1
            if len(examples) < 5:
                examples.append(sample_label(obj))
    return JsonResponse({"ok": True, "total": len(rows), "matched": matched, "errors": errors,
                         "examples": examples})
