"""Form classes generated from metadata: one per (entity, scope, screen, roles, version),
cached, so rendering a form does no metadata work at all on a warm process."""
from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import (MaxLengthValidator, MaxValueValidator, MinValueValidator,
                                    RegexValidator)

from lowcode import fieldtypes, registry
from lowcode.registry import EntityMeta, FieldSpec
from secure import audit
from secure.masking import mask

OTHER_SECTION = "其他信息"


def visible_sections(meta: EntityMeta, scope_value: str | None, screen: str,
                     roles: tuple[str, ...] = ()) -> list[tuple[str, list[str]]]:
    """Layout sections restricted to the fields that apply to this scope and are not hidden.
    Fields in scope that no section mentions go to a trailing section, so a field a business
    admin just added shows at once, before anyone edits the layout."""
    in_scope = {f.code: f for f in meta.fields_for(scope_value) if not f.hidden}
    placed: set[str] = set()
    out = []
    for section in meta.layout(screen, scope_value, roles):
        codes = [c for c in section.fields if c in in_scope and c not in placed]
        placed.update(codes)
        if codes:
            out.append((section.title, codes))
    # core fields appear only where a layout puts them; a new extra field shows at once
    rest = [c for c, f in in_scope.items() if c not in placed and not f.core]
    if rest:
        out.append((OTHER_SECTION, rest))
    return out


def formfield_for(meta: EntityMeta, spec: FieldSpec, *, required: bool | None = None) -> forms.Field:
    """The form field of one FieldSpec: its type's field and bounds (FieldType.formfield), and
    what every type shares (required, pattern, default, read-only)."""
    field = spec.type.formfield(
        spec, meta.choices(spec) if spec.type.choice else None, label=spec.label,
        required=spec.required_always if required is None else required, help_text=spec.description)
    if spec.pattern:
        field.validators.append(RegexValidator(re.compile(spec.pattern),
                                               spec.pattern_message or f"{spec.label}格式不正确"))
    if spec.default and not spec.type.upload:
        field.initial = spec.default
    if spec.read_only:
        field.disabled = True
    return field


def expression_values(meta: EntityMeta, data: dict[str, Any]) -> dict[str, Any]:
    """Values by code and by label, as expressions see them (EntityMeta.expression_values)."""
    return meta.expression_values(data)


_reading_fields: dict[tuple[str, str], dict[str, forms.Field]] = {}


def posted_values(meta: EntityMeta, data) -> dict[str, Any]:
    """The values being typed into a generated form (a POST), read by the very form fields of
    the form: a value its field cannot read yet (half-typed) is None. The live form-rules
    endpoint decides on these, so it sees what the form's clean will see."""
    key = (meta.entity, meta.version)
    fields = _reading_fields.get(key)
    if fields is None:
        if len(_reading_fields) > 64:
            _reading_fields.clear()
        fields = _reading_fields[key] = {code: formfield_for(meta, spec) for code, spec in meta.fields.items()}
    values = {}
    for code, field in fields.items():
        try:
            values[code] = field.to_python(field.widget.value_from_datadict(data, {}, code))
        except (ValidationError, ValueError, TypeError):
            values[code] = None
    return values



def bound_form(form: forms.BaseForm) -> forms.BaseForm:
    """The input bounds (lowcode.fieldtypes.apply_bounds) on every field of a form: hand-written
    forms of every end call this where they style their fields."""
    for field in form.fields.values():
        fieldtypes.apply_bounds(field)
    return form


def apply_core_bounds(field: forms.Field, spec: FieldSpec) -> None:
    """A core field's FieldDef bounds (最小值/最大值, 最大长度, 校验正则) on its model form field,
    so the metadata bounds a core column exactly as it bounds an extra field."""
    ftype = spec.type
    if ftype.text and isinstance(field, forms.CharField):
        fieldtypes.apply_bounds(field, multiline=ftype.multiline)
        if spec.max_length and (field.max_length is None or spec.max_length < field.max_length):
            field.max_length = spec.max_length
            field.validators.append(MaxLengthValidator(spec.max_length))
            field.widget.attrs["maxlength"] = str(spec.max_length)
    elif ftype.bounds in ("int", "number") and isinstance(field, (forms.IntegerField, forms.DecimalField)):
        if spec.min_value is not None:
            field.min_value = ftype.bound_value(spec.min_value)
            field.validators.append(MinValueValidator(field.min_value))
            field.widget.attrs["min"] = str(field.min_value)
        if spec.max_value is not None:
            field.max_value = ftype.bound_value(spec.max_value)
            field.validators.append(MaxValueValidator(field.max_value))
            field.widget.attrs["max"] = str(field.max_value)
        fieldtypes.apply_bounds(field)
    elif ftype.bounds == "days" and isinstance(field, (forms.DateField, forms.DateTimeField)):
        fieldtypes.apply_bounds(field, min_days=spec.min_value, max_days=spec.max_value)
    if spec.pattern and isinstance(field, forms.CharField):
        field.validators.append(RegexValidator(re.compile(spec.pattern),
                                               spec.pattern_message or f"{spec.label}格式不正确"))


def guard_autocomplete_ids() -> None:
    """Django's admin autocomplete widget (``autocomplete_fields``), re-rendering a refused form
    whose submitted id is not a number, filters the related table by that id and fails
    (ValueError → 500). Ids the related key cannot hold are left out of the re-rendered widget
    (the form already says the choice is invalid). Called once from LowcodeConfig.ready."""
    from django.contrib.admin.widgets import AutocompleteMixin

    def format_value(widget, value):
        values = forms.widgets.ChoiceWidget.format_value(widget, value)
        remote = widget.field.remote_field
        key = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        valid = []
        for v in values:
            try:
                key.run_validators(key.to_python(v))  # a number, and within the column's range
            except (ValidationError, ValueError, TypeError):
                continue
            valid.append(v)
        return valid

    AutocompleteMixin.format_value = format_value


class MetaFormMixin:
    """Mixed into a ModelForm. Class attributes set by ``build_form_class``."""

    _meta_entity: str = ""
    _meta_version: str = ""
    _scope_value: str | None = None
    _extra_codes: tuple[str, ...] = ()
    _conditional: tuple[str, ...] = ()
    # a user without the "view sensitive" right edits a sensitive value masked: the masked text
    # is shown, and sent back unchanged it keeps the stored value (set per request by the admin)
    _mask_sensitive: bool = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_form(self)
        config = registry.entity_config(self._meta_entity)
        extra = getattr(self.instance, config.extra_field, None) or {}
        meta = registry.get_meta(self._meta_entity)
        for code in self._extra_codes:
            if code in self.fields and code in extra:
                spec = meta.fields[code]
                value = spec.from_stored(extra[code])
                if spec.sensitive and value not in (None, "", []):
                    if self._mask_sensitive:
                        value = self._show_masked(code, spec, value)
                    elif not self.is_bound and self.instance.pk:  # shown in full: audited
                        audit.unmasked(self.instance, spec.label)
                if not self.is_bound:
                    self.initial[code] = value

    def clean(self):
        cleaned = super().clean()
        meta = registry.get_meta(self._meta_entity)
        hidden, missing = meta.check_conditions(cleaned, [c for c in self._conditional if c in self.fields])
        for code in hidden:
            # not shown under this condition: whatever was sent is not kept
            cleaned[code] = None
            if self._errors and code in self._errors:
                del self._errors[code]
        for code, message in missing.items():
            if not (self._errors and code in self._errors):  # "required" said once
                self.add_error(code, ValidationError(message, code="required_if"))
        return cleaned

    def extra_values(self) -> dict[str, Any]:
        meta = registry.get_meta(self._meta_entity)
        out = {}
        for code in self._extra_codes:
            if code in self.cleaned_data:
                spec = meta.fields[code]
                v = spec.to_stored(self.cleaned_data[code])
                if v not in (None, "", []):
                    out[code] = v
        return out

    def _show_masked(self, code: str, spec: FieldSpec, value: Any) -> str:
        """The masked text to show; sent back unchanged, it cleans to the stored value (a masked
        ID number would not pass the ID-number check)."""
        shown = mask(str(value), spec.fieldtype)
        if not spec.type.text:  # a choice, date or number cannot show "***": read-only
            old = self.fields[code]
            self.fields[code] = forms.CharField(label=old.label, required=False, disabled=True,
                                                help_text="敏感字段：无权查看完整值，不能修改")
        field = self.fields[code]  # this form's own copy of the field
        clean = field.clean

        def keep_stored(data):
            return value if data == shown else clean(data)

        field.clean = keep_stored
        return shown

    def _post_clean(self):
        super()._post_clean()
        if not self._errors or not any(self._errors.values()):
            config = registry.entity_config(self._meta_entity)
            current = dict(getattr(self.instance, config.extra_field, None) or {})
            for code in self._extra_codes:
                current.pop(code, None)
            current.update(self.extra_values())
            setattr(self.instance, config.extra_field, current)


_form_cache: dict[tuple, type] = {}


def build_form_class(base: type[forms.ModelForm], entity: str, scope_value: str | None,
                     screen: str = "edit", roles: tuple[str, ...] = ()) -> type[forms.ModelForm]:
    meta = registry.get_meta(entity)
    key = (base, entity, scope_value, screen, roles, meta.version)
    cached = _form_cache.get(key)
    if cached is not None:
        return cached
    sections = visible_sections(meta, scope_value, screen, roles)
    codes = [c for _, cs in sections for c in cs]
    attrs: dict[str, Any] = {}
    extra_codes, conditional = [], []
    for code in codes:
        spec = meta.fields[code]
        if spec.conditional:
            conditional.append(code)
        if spec.core:
            continue
        extra_codes.append(code)
        attrs[code] = formfield_for(meta, spec)
    attrs.update(_meta_entity=entity, _meta_version=meta.version, _scope_value=scope_value,
                 _extra_codes=tuple(extra_codes), _conditional=tuple(conditional))
    name = re.sub(r"\W", "_", f"{base.__name__}_{entity}_{scope_value or 'all'}")[:200]  # scope may come from a POST
    cls = type(name, (MetaFormMixin, base), attrs)
    if len(_form_cache) > 512:
        _form_cache.clear()
    _form_cache[key] = cls
    return cls


def apply_core_overrides(form: forms.BaseForm, entity: str, scope_value: str | None) -> None:
    """Labels, required, help, read-only and dictionary choices of core fields come from
    their FieldDef too, so core and extra fields behave alike."""
    meta = registry.get_meta(entity)
    for code, field in form.fields.items():
        spec = meta.fields.get(code)
        if spec is None or not spec.core:
            continue
        field.label = spec.label
        apply_core_bounds(field, spec)
        if spec.description:
            field.help_text = spec.description
        if spec.conditional:
            field.required = False  # decided per submitted values: MetaFormMixin.clean
        elif spec.reqd:
            field.required = True
        if spec.read_only:
            field.disabled = True
        if spec.dictionary and not isinstance(field, forms.ModelChoiceField):
            choices = meta.choices(spec)
            # keep the default (FieldDef default, else the model's) on the replacement field
            initial = spec.default or field.initial
            if spec.type.choice == "many":
                form.fields[code] = forms.MultipleChoiceField(
                    label=spec.label, required=field.required, choices=choices, initial=initial,
                    widget=forms.CheckboxSelectMultiple, help_text=field.help_text)
            else:
                form.fields[code] = forms.ChoiceField(
                    label=spec.label, required=field.required, help_text=field.help_text,
                    choices=[("", "---------")] + choices, disabled=field.disabled, initial=initial)
