"""The 一单位一平台 REST API (T-2), built with django-ninja: OpenAPI 3 generated from this code,
browsable offline at /api/v1/docs (swagger-ui served from the ninja package's static files).

Every call is signed (``api.signing``), rate-limited per client, audited (secure.audit event
``api_call``), and reads rows through ``accounts.scope`` with the client as the principal
(its region subtree). Parties' ID numbers and phones are masked unless the client holds the
right. Pushes go through the clue ingest pipeline of the client's channel (the same cleaning
rule, duplicate detection and hooks as a file upload)."""
from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any, Optional

from django.apps import apps
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.db.models import Count, F
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security.base import AuthBase

from accounts.scope import scope_queryset
from api import signing
from api.models import ApiClient, Principal
from secure import audit
from secure.masking import mask
from secure.ratelimit import hit

MAX_PAGE = 200
MAX_PUSH = 500


# --- authentication ------------------------------------------------------------------------------
class SignedClient(AuthBase):
    """HMAC-SM3 signature (see api.signing); the OpenAPI document names it an API key header."""

    openapi_type = "apiKey"

    def __init__(self):
        self.openapi_in = "header"
        self.openapi_name = "X-Api-Key"
        super().__init__()

    def __call__(self, request):
        try:
            client = signing.verify(request, _lookup)
        except signing.SignatureError as exc:
            _refused(request, str(exc))
            raise HttpError(exc.status, str(exc)) from None
        allowed, wait = hit("api", client.key_id, client.rate_limit, 60)
        if not allowed:
            _refused(request, "超过每分钟请求上限", client)
            raise HttpError(429, f"请求过于频繁（每分钟最多 {client.rate_limit} 次），请 {wait} 秒后再试")
        ApiClient.objects.filter(pk=client.pk).update(calls=F("calls") + 1, last_call_at=timezone.now())
        request.api_client = client
        request.principal = Principal(client)
        audit.record("api_call", request=request, username=request.principal.get_username(), obj=client,
                     method=request.method, path=request.path[:200], query=request.META.get("QUERY_STRING", "")[:200])
        return client


def _lookup(key_id: str):
    return ApiClient.objects.select_related("region").filter(key_id=key_id).first()


def _refused(request, reason: str, client=None) -> None:
    key_id = request.headers.get("X-Api-Key", "")[:64]
    if client is None and key_id:
        client = ApiClient.objects.filter(key_id=key_id).first()
    if client is not None:
        ApiClient.objects.filter(pk=client.pk).update(refused=F("refused") + 1)
    audit.record("api_call", request=request, username=f"api:{key_id}" if key_id else "api:?", obj=client,
                 outcome="failure", reason=reason, method=request.method, path=request.path[:200])


api = NinjaAPI(
    title="矛盾纠纷调处研判系统 一单位一平台接口",
    version="1.0",
    description="供社会治理中心平台等政府系统推送案件/线索、读取案件、状态变更、预警与统计。"
                "每个请求须以 HMAC-SM3 签名（见 README“对接外部系统”）。",
    urls_namespace="platform_api",
    auth=SignedClient(),
    docs_decorator=staff_member_required,
)


class ErrorOut(Schema):
    detail: str = Field(..., description="错误说明（中文）")


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


@api.exception_handler(ValidationError)
def validation_failed(request, exc):
    parts = []
    for err in exc.errors[:5]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "body", "path"))
        parts.append(f"{where or '参数'}：{_zh(err)}")
    return api.create_response(request, {"detail": "请求参数不正确：" + "；".join(parts)}, status=422)


def _zh(err: dict) -> str:
    kind = err.get("type", "")
    return {"missing": "必填", "int_parsing": "须为整数", "datetime_from_date_parsing": "须为日期时间",
            "datetime_parsing": "须为日期时间（ISO 8601）", "date_from_datetime_parsing": "须为日期",
            "date_parsing": "须为日期（YYYY-MM-DD）", "greater_than_equal": "数值太小",
            "less_than_equal": "数值太大", "string_too_long": "太长", "list_type": "须为数组",
            "dict_type": "须为对象", "too_long": "条数太多", "string_type": "须为文字",
            "too_short": "不能为空", "json_invalid": "不是合法的 JSON", "model_attributes_type": "须为对象",
            "int_from_float": "须为整数", "datetime_type": "须为日期时间", "date_type": "须为日期",
            }.get(kind, "格式不正确")


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "接口或对象不存在"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(request, {"detail": "未认证：请求须带签名"}, status=401)


@api.exception_handler(HttpError)
def http_error(request, exc):
    text = str(exc)
    if text.startswith("Cannot parse request body"):  # ninja's own wording
        text = "请求体不是合法的 JSON"
    return api.create_response(request, {"detail": text}, status=exc.status_code)


# --- schemas -------------------------------------------------------------------------------------
class PartyOut(Schema):
    name: str
    role: str
    id_number: str = Field("", description="证件号码；客户端无权限时脱敏")
    phone: str = Field("", description="联系电话；客户端无权限时脱敏")


class CaseOut(Schema):
    exchange_id: str = Field(..., description="案件编号")
    title: str
    case_type: str
    case_type_label: str
    status: str
    status_label: str
    source: str
    region_code: str
    region_name: str
    address: str
    registered_at: dt.datetime
    updated_at: dt.datetime


class CaseDetailOut(CaseOut):
    description: str
    parties: list[PartyOut]


class CasePage(Schema):
    total: int
    items: list[CaseOut]


class ChangeOut(Schema):
    cursor: int = Field(..., description="本条变更的游标；下次从 next_cursor 继续")
    exchange_id: str
    kind: str
    from_state: str
    to_state: str
    message: str
    at: dt.datetime


class ChangePage(Schema):
    next_cursor: int
    items: list[ChangeOut]


class WarningOut(Schema):
    exchange_id: str
    level: str
    level_label: str
    reasons: list[str]
    changed_at: dt.datetime


class WarningPage(Schema):
    enabled: bool = Field(..., description="升级预警模块未安装时为 false，列表为空")
    items: list[WarningOut]


class CountOut(Schema):
    key: str
    label: str
    count: int


class StatsOut(Schema):
    region_code: str
    date_from: Optional[dt.date]
    date_to: Optional[dt.date]
    total: int
    by_status: list[CountOut]
    by_type: list[CountOut]
    by_region: list[CountOut]


class PushIn(Schema):
    records: list[dict[str, Any]] = Field(..., min_length=1, max_length=MAX_PUSH,
                                          description="原始记录（数据来源的字段格式），每次最多 500 条")


class RejectedOut(Schema):
    line: Optional[int]
    record_key: str
    reason: str


class PushOut(Schema):
    batch: int = Field(..., description="归集批次编号")
    channel: str
    read: int
    new: int
    updated: int
    unchanged: int
    rejected: int
    rejections: list[RejectedOut]


# --- helpers -------------------------------------------------------------------------------------
def _cases(request):
    from cases.models import Case

    if not request.api_client.can_read:
        raise HttpError(403, "该接入凭证无读取权限")
    return scope_queryset(request.principal, Case.objects.select_related("region"))


def _label(dictionary: str, code: str) -> str:
    from lowcode.registry import get_dictionary

    entry = get_dictionary(dictionary).get(code)
    return entry.label if entry is not None else code


def _case_out(case) -> dict:
    return {"exchange_id": case.exchange_id, "title": case.title, "case_type": case.case_type,
            "case_type_label": _label("case_type", case.case_type), "status": case.status,
            "status_label": _label("case_status", case.status), "source": case.source,
            "region_code": case.region.code, "region_name": case.region.name, "address": case.address,
            "registered_at": case.registered_at, "updated_at": case.updated_at}


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


# --- endpoints -----------------------------------------------------------------------------------
router = Router(tags=["案件"])


@router.get("/cases", response={200: CasePage, **ERRORS}, summary="案件列表（按更新时间）")
def list_cases(request, updated_since: Optional[dt.datetime] = Query(None, description="只返回此后更新的案件"),
               status: Optional[str] = Query(None, max_length=32, description="案件状态编码"),
               offset: int = Query(0, ge=0, le=10_000_000), limit: int = Query(50, ge=1, le=MAX_PAGE)):
    qs = _cases(request)
    if updated_since is not None:
        qs = qs.filter(updated_at__gt=_aware(updated_since))
    if status:
        qs = qs.filter(status=status)
    qs = qs.order_by("updated_at", "id")
    return {"total": qs.count(), "items": [_case_out(c) for c in qs[offset:offset + limit]]}


@router.get("/cases/{exchange_id}", response={200: CaseDetailOut, **ERRORS}, summary="案件详情（含当事人，按权限脱敏）")
def get_case(request, exchange_id: str):
    case = _cases(request).filter(exchange_id=exchange_id[:40]).first()
    if case is None:
        raise HttpError(404, "案件不存在或不在本平台的数据范围内")
    see = request.api_client.see_sensitive
    parties = []
    for p in case.parties.all():
        parties.append({"name": p.name, "role": p.role,
                        "id_number": p.id_number if see else mask(p.id_number, "id_number"),
                        "phone": p.phone if see else mask(p.phone, "phone")})
    if see and any(p["id_number"] or p["phone"] for p in parties):
        audit.unmasked(case, "id_number", "phone")
    return {**_case_out(case), "description": case.description, "parties": parties}


@router.get("/changes", response={200: ChangePage, **ERRORS}, summary="状态变更（游标之后）")
def changes(request, cursor: int = Query(0, ge=0, le=2**62, description="上次返回的 next_cursor；首次为 0"),
            limit: int = Query(100, ge=1, le=MAX_PAGE)):
    from cases.models import CaseEvent

    _cases(request)  # the read right
    qs = scope_queryset(request.principal, CaseEvent.objects.filter(pk__gt=cursor, kind="transition"),
                        "case__region_path").select_related("case").order_by("pk")[:limit]
    items = [{"cursor": e.pk, "exchange_id": e.case.exchange_id, "kind": e.kind, "from_state": e.from_state,
              "to_state": e.to_state, "message": e.message, "at": e.created_at} for e in qs]
    return {"next_cursor": items[-1]["cursor"] if items else cursor, "items": items}


@router.get("/warnings", response={200: WarningPage, **ERRORS}, summary="升级预警")
def warnings(request, changed_since: Optional[dt.datetime] = Query(None), level: Optional[str] = Query(None, max_length=32),
             limit: int = Query(100, ge=1, le=MAX_PAGE)):
    _cases(request)
    if not apps.is_installed("extensions.escalation"):
        return {"enabled": False, "items": []}
    # looked up by name: the platform never imports an extension (architecture contract)
    warning_model = apps.get_model("escalation", "CaseWarning")
    level_model = apps.get_model("escalation", "WarningLevel")
    labels = dict(level_model.objects.values_list("key", "label"))
    qs = scope_queryset(request.principal, warning_model.objects.select_related("case"), "case__region_path")
    if changed_since is not None:
        qs = qs.filter(changed_at__gt=_aware(changed_since))
    if level:
        qs = qs.filter(level=level)
    items = [{"exchange_id": w.case.exchange_id, "level": w.level, "level_label": labels.get(w.level, w.level),
              "reasons": [str(r) for r in (w.reasons or [])][:20], "changed_at": w.changed_at}
             for w in qs.order_by("-changed_at", "-pk")[:limit]]
    return {"enabled": True, "items": items}


@router.get("/statistics", response={200: StatsOut, **ERRORS}, summary="统计（按状态、类型、下级区域）")
def statistics(request, date_from: Optional[dt.date] = Query(None, description="登记日期起（含）"),
               date_to: Optional[dt.date] = Query(None, description="登记日期止（含）")):
    from orgs.models import Region

    if date_from and date_to and date_from > date_to:
        raise HttpError(400, "起始日期不能晚于截止日期")
    qs = _cases(request)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(registered_at__gte=dt.datetime.combine(date_from, dt.time.min, tz))
    if date_to:
        qs = qs.filter(registered_at__lt=dt.datetime.combine(date_to, dt.time.min, tz) + dt.timedelta(days=1))
    by_status = [{"key": r["status"], "label": _label("case_status", r["status"]), "count": r["n"]}
                 for r in qs.values("status").annotate(n=Count("id")).order_by("-n", "status")]
    by_type = [{"key": r["case_type"], "label": _label("case_type", r["case_type"]), "count": r["n"]}
               for r in qs.values("case_type").annotate(n=Count("id")).order_by("-n", "case_type")]
    by_region = []
    for child in Region.objects.filter(parent=request.api_client.region).order_by("sort", "code"):
        by_region.append({"key": child.code, "label": child.name,
                          "count": qs.filter(region_path__startswith=child.path).count()})
    return {"region_code": request.api_client.region.code, "date_from": date_from, "date_to": date_to,
            "total": qs.count(), "by_status": by_status, "by_type": by_type, "by_region": by_region}


push_router = Router(tags=["推送"])


def _push(request, payload: PushIn, kind: str) -> dict:
    from clues.ingest import ingest
    from clues.models import Channel, Rejection

    client = request.api_client
    if not client.can_push:
        raise HttpError(403, "该接入凭证无推送权限")
    channel = Channel.objects.filter(key=client.channel).first() if client.channel else None
    if channel is None or not channel.enabled:
        raise HttpError(403, "该接入凭证未配置可用的数据来源，不能推送")
    if channel.kind != kind:
        what = {"case": "案件", "event": "线索"}
        raise HttpError(400, f"数据来源“{channel.name}”接收{what.get(channel.kind, channel.kind)}，"
                             f"请调用推送{what.get(channel.kind, channel.kind)}的接口")
    body = "\n".join(json.dumps(r, ensure_ascii=False, default=str) for r in payload.records).encode("utf-8")
    stream = io.BytesIO(body)
    stream.name = "api.jsonl"
    result = ingest(channel.key, stream, origin="api", name=f"接口推送 {client.name}"[:255])
    batch = result.batch
    rejections = [{"line": r.line, "record_key": r.record_key or "", "reason": r.reason}
                  for r in Rejection.objects.filter(batch=batch).order_by("line", "pk")[:MAX_PUSH]]
    audit.record("api_push", request=request, username=request.principal.get_username(), obj=client,
                 channel=channel.key, batch=batch.pk, read=batch.read, new=batch.new, rejected=batch.rejected)
    return {"batch": batch.pk, "channel": channel.key, "read": batch.read, "new": batch.new,
            "updated": batch.updated, "unchanged": batch.unchanged, "rejected": batch.rejected,
            "rejections": rejections}


@push_router.post("/cases", response={200: PushOut, **ERRORS}, summary="推送案件（同文件归集的清洗与查重流程；按编号幂等）")
def push_cases(request, payload: PushIn):
    return _push(request, payload, "case")


@push_router.post("/clues", response={200: PushOut, **ERRORS}, summary="推送线索/事件（同文件归集的清洗与查重流程；按编号幂等）")
def push_clues(request, payload: PushIn):
    return _push(request, payload, "event")


api.add_router("/", router)
api.add_router("/push", push_router)
