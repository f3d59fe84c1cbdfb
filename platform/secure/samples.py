"""Masked samples for configuration previews (试算/预览). A business configuration admin sees how
many records a rule or expression would touch and which ones (by number), never the people in
them: names keep their first character, free text only its length,
ID numbers and phones the usual display mask (least privilege, 等保 访问控制 d)."""
from __future__ import annotations

from secure.masking import mask_id_number, mask_phone


def mask_name(value: str | None) -> str:
    """张三 → 张*; 王某某 → 王**."""
    value = (value or "").strip()
    return value[:1] + "*" * (len(value) - 1) if value else ""


def mask_text(value: str | None) -> str:
    """Free text (titles, descriptions, addresses): its length only — titles start with names."""
    value = "" if value is None else str(value)
    return f"***（{len(value)} 字）" if value else ""


KEY_MASKS = {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone}


def mask_structure(value):
    """Mask every string in a JSON-like value; dict keys naming a kind (name, phone, id_number)
    get that kind's mask, other strings ``mask_text``. Numbers, booleans and None stay."""
    if isinstance(value, dict):
        return {k: (KEY_MASKS[k](v) if k in KEY_MASKS and isinstance(v, str) else mask_structure(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_structure(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value
