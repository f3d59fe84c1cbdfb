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


WRONG_NUMBER_OR_CODE = "凭证编号或校验码不正确"


def _load(number: str):
    from dispatch.models import Voucher

    number = (number or "").strip().upper()
    return (Voucher.objects.select_related("order__case", "organization", "mediator", "bid")
            .filter(number=number).first()) if number else None


def _state(voucher) -> tuple[bool, str]:
    if voucher.revoked_at is not None or voucher.order.state == "withdrawn":
        return False, "该凭证对应的发单已撤回，凭证已作废"
    if not constant_time_equal(digest(voucher), voucher.digest):
        return False, "凭证内容与校验码不一致，可能已被篡改"
    return True, "凭证有效"


def verify(number: str, code: str = "") -> tuple[bool, str, object]:
    """(valid, reason in Chinese, voucher or None), for logged-in screens that already show the
    voucher. ``code`` optional: the digest printed on paper. The public page uses ``check``."""
    voucher = _load(number)
    if voucher is None:
        return False, "未找到该编号的确认凭证", None
    valid, reason = _state(voucher)
    if not valid:
        return False, reason, voucher
    code = (code or "").strip().lower()
    if code and not constant_time_equal(code, voucher.digest):
        return False, "输入的校验码与凭证不符", voucher
    return True, reason, voucher


def check(number: str, code: str) -> tuple[bool, str, object]:
    """The public check (/verify/): number AND check code. Voucher numbers are sequential, so an
    unknown number and a wrong code get the same answer — nothing is said about a voucher to
    someone who does not hold its code; the holder learns whether it is valid, void or altered."""
    voucher = _load(number)
    code = (code or "").strip().lower()
    if voucher is None or not code or not constant_time_equal(code, voucher.digest):
        return False, WRONG_NUMBER_OR_CODE, None
    valid, reason = _state(voucher)
    return valid, reason, voucher
