"""Party (当事人) form: sensitive values masked for users who may not see them, and a masked
value sent back unchanged keeps the stored one (nothing is overwritten with asterisks)."""
from __future__ import annotations

from django import forms

from cases.models import Party
from lowcode.fieldtypes import validate_id_number, validate_phone
from lowcode.forms import apply_core_overrides, bound_form
from secure import audit
from secure.crypto import normalise
from secure.masking import mask

SENSITIVE = ("id_number", "phone")


class PartyForm(forms.ModelForm):
    can_see_sensitive = False

    class Meta:
        model = Party
        fields = ("role", "party_kind", "name", "id_number", "phone", "address")  # a tuple: never mutated
        widgets = {"id_number": forms.TextInput(attrs={"size": 20, "class": "vTextField"}),
                   "phone": forms.TextInput(attrs={"size": 14, "class": "vTextField"}),
                   # encrypted at rest (a text column), still typed on one line
                   "address": forms.TextInput(attrs={"size": 30, "class": "vTextField", "maxlength": 255})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        apply_core_overrides(self, "party", None)
        bound_form(self)
        if self.instance.pk:
            for name in SENSITIVE:  # masked, or in full and audited
                self.initial[name] = audit.shown(self.instance, getattr(self.instance, name), name,
                                                 self.can_see_sensitive)

    def _clean_sensitive(self, name, validator):
        value = normalise(self.cleaned_data.get(name) or "", name)
        original = getattr(self.instance, name) if self.instance.pk else ""
        if self.instance.pk and not self.can_see_sensitive and value == mask(original, name):
            return original
        validator(value)
        return value

    def clean_id_number(self):
        return self._clean_sensitive("id_number", validate_id_number)

    def clean_phone(self):
        return self._clean_sensitive("phone", validate_phone)


def party_form_for(can_see_sensitive: bool) -> type[PartyForm]:
    return type("PartyForm", (PartyForm,), {"can_see_sensitive": can_see_sensitive})
