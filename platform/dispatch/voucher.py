"""确认凭证 integrity: the SM3 digest (GB/T 32905, ``secure.crypto.sm3_hex``) of a canonical
payload — sorted-key compact JSON of what the voucher certifies. The verification page rebuilds
the payload from the stored rows and compares, so any change to the order, organisation,
mediator or dates after issue makes the voucher 无效."""
from __future__ import annotations

import json

from django.utils import timezone

from secure.crypto import constant_time_equal, sm3_hex


def _ts(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M:%S%z") if value else ""


def canonical_payload(voucher) -> str:
    order, bid = voucher.order, voucher.bid
    data = {
        "voucher": voucher.number,
        "order": order.number,
        "case": order.case.exchange_id,
        "organization": voucher.organization.name,
        "organization_id": voucher.organization_id,
        "mediator": str(voucher.mediator),
        "mediator_id": voucher.mediator_id,
        "bid_id": bid.pk,
        "fee": str(order.expected_fee) if order.expected_fee is not None else "",
        "mediation_deadline": order.mediation_deadline.isoformat(),
        "awarded_at": _ts(order.awarded_at),
        "issued_at": _ts(voucher.issued_at),
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(voucher) -> str:
    return sm3_hex(canonical_payload(voucher).encode("utf-8"))


def verify(number: str, code: str = "") -> tuple[bool, str, object]:
    """(valid, reason in Chinese, voucher or None). ``code`` optional: the digest printed on paper."""
    from dispatch.models import Voucher

    number = (number or "").strip().upper()
    voucher = (Voucher.objects.select_related("order__case", "organization", "mediator", "bid")
               .filter(number=number).first()) if number else None
    if voucher is None:
        return False, "未找到该编号的确认凭证", None
    if voucher.revoked_at is not None or voucher.order.state == "withdrawn":
        return False, "该凭证对应的发单已撤回，凭证已作废", voucher
    actual = digest(voucher)
    if not constant_time_equal(actual, voucher.digest):
        return False, "凭证内容与校验码不一致，可能已被篡改", voucher
    code = (code or "").strip().lower()
    if code and not constant_time_equal(code, voucher.digest):
        return False, "输入的校验码与凭证不符", voucher
    return True, "凭证有效", voucher
