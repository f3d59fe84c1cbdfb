"""The one entry point for the security audit trail: ``record(event, ...)``.

Every module that does something an assessor wants to see (logins, exports, unmasked views,
rights changes …) calls ``record``; it writes in the request (auditing cannot be stopped on its
own) and never raises into the caller's flow.

Integrity (密评 存储完整性, 等保 审计记录保护): each row gets the next sequence number and
``mac = HMAC-SM3(AUDIT_HMAC_KEY, canonical(row) including prev_mac)``. Appends take turns on one
chain-head row (an UPDATE first, so the write lock is taken before anything is read — portable
to SQLite, PostgreSQL and Dameng). ``verify_chain`` walks the rows and names the first one that
was changed, inserted or deleted; ``purge`` drops the oldest rows past the retention period and
records, inside the chain, where the chain now starts.

Screens that show a full ID number or phone call ``unmasked(obj, kind)``; the middleware
``AuditContextMiddleware`` gathers those of one request into one ``view_unmasked`` row."""
from __future__ import annotations

import contextvars
import datetime as dt
import functools
import json
import logging
import logging.handlers
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, hmac
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)

#: event code → what the auditor's screen calls it (unknown codes are shown as they are)
EVENT_LABELS = {
    "login": "登录", "login_failed": "登录失败", "logout": "退出登录", "lockout": "账号锁定",
    "unlock": "解除锁定", "password_change": "修改密码", "password_reset": "重置密码",
    "policy_change": "安全策略变更", "user_change": "用户变更", "group_change": "角色权限变更",
    "otp_enrolled": "绑定双因素认证", "otp_verified": "双因素认证通过", "otp_failed": "双因素认证失败",
    "otp_reset": "重置双因素认证", "export": "导出数据", "view_unmasked": "查看完整证件号码/电话",
    "search_sensitive": "按证件号码/电话查询", "audit_purge": "审计日志到期清理",
    "audit_chain_head_rebuilt": "审计链头重建", "audit_verify": "审计日志完整性校验",
    "sso_login": "单点登录", "sso_failed": "单点登录失败", "integration_test": "外部系统测试连接",
    "api_call": "平台接口调用", "api_push": "平台接口推送数据", "client_created": "创建接入平台凭据",
    "client_rotated": "更换接入平台密钥", "client_revoked": "吊销接入平台凭据",
    "assessment_recompute": "重算已关闭考核期间",
}
SENSITIVE_LABELS = {"id_number": "证件号码", "phone": "电话"}
MIN_RETENTION_DAYS = 180  # 等保三级 / 网络安全法第二十一条：不少于六个月
MAX_OBJECTS_LISTED = 50


def event_label(code: str) -> str:
    if code in EVENT_LABELS:
        return EVENT_LABELS[code]
    if code.startswith("otp_"):
        return "双因素认证：" + code[4:]
    return code


def client_ip(request) -> str:
    if request is None:
        return ""
    return (request.META.get("REMOTE_ADDR") or "")[:45]


# --- key and MAC -----------------------------------------------------------------------
@functools.lru_cache(maxsize=2)
def _key(raw: str) -> bytes:
    try:
        key = bytes.fromhex(raw or "")
    except ValueError:
        key = b""
    if len(key) < 32:
        raise ImproperlyConfigured("环境变量 AUDIT_HMAC_KEY 必须是至少 64 位十六进制字符串（见 docs/security/audit.md）")
    return key


def _hmac(*parts: str) -> str:
    h = hmac.HMAC(_key(getattr(settings, "AUDIT_HMAC_KEY", "")), hashes.SM3())
    h.update(json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return h.finalize().hex()


def _at_text(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def row_mac(row) -> str:
    """HMAC-SM3 over everything a row says, its place (seq) and its predecessor's MAC."""
    return _hmac("row", str(row.seq), _at_text(row.at), row.event, row.outcome, str(row.user_id or ""),
                 row.username, row.ip, row.object_repr,
                 json.dumps(row.detail, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
                 row.prev_mac)


def head_seal(seq: int, mac: str) -> str:
    return _hmac("head", str(seq), mac)


def _clean_text(value, limit: int | None = None) -> str:
    text = str(value or "").replace("\x00", "")  # PostgreSQL refuses NUL in text and JSON
    return text[:limit] if limit else text


def _clean_detail(detail: dict) -> dict:
    """JSON as the database will give it back: strings (no NUL), ints, bools, lists, dicts;
    floats and anything else become text, so the MAC recomputes identically after a read."""
    def walk(v):
        if isinstance(v, dict):
            return {_clean_text(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple, set)):
            return [walk(x) for x in v]
        if v is None or isinstance(v, (bool, int)):
            return v
        return _clean_text(v)
    return walk(detail)


# --- writing ---------------------------------------------------------------------------
def _lock_head():
    """Take the chain's write lock and return the head row with the next seq already taken."""
    from secure.models import AuditChainHead, SecurityEvent

    heads = AuditChainHead.objects.filter(pk=1)
    if heads.update(seq=F("seq") + 1):
        return heads.get(), False
    # The head is created by the migration; missing means a wiped table (tests' flush) or
    # tampering — rebuild it from the last row and say so in the chain.
    last = SecurityEvent.objects.order_by("-seq").first()
    AuditChainHead.objects.get_or_create(pk=1, defaults={
        "seq": last.seq if last else 0, "mac": last.mac if last else "",
        "seal": head_seal(last.seq, last.mac) if last else ""})
    heads.update(seq=F("seq") + 1)
    return heads.get(), last is not None


def _append(event, *, user, username, ip, object_repr, outcome, detail):
    from secure.models import AuditChainHead, SecurityEvent

    head, rebuilt = _lock_head()
    if rebuilt:
        row = _insert(SecurityEvent, head, "audit_chain_head_rebuilt", None, "", "", "", "failure",
                      {"reason": "审计链头记录缺失，已按最后一行重建"})
        AuditChainHead.objects.filter(pk=1).update(seq=F("seq") + 1)
        head.seq, head.mac = head.seq + 1, row.mac
    row = _insert(SecurityEvent, head, event, user, username, ip, object_repr, outcome, detail)
    AuditChainHead.objects.filter(pk=1).update(mac=row.mac, seal=head_seal(row.seq, row.mac))
    return row


def _insert(model, head, event, user, username, ip, object_repr, outcome, detail):
    now = timezone.now()
    row = model(seq=head.seq, at=now.replace(microsecond=now.microsecond // 1000 * 1000),
                event=_clean_text(event, 40), outcome=outcome if outcome in ("success", "failure") else "failure",
                user_id=getattr(user, "pk", None), username=_clean_text(username, 150), ip=_clean_text(ip, 45),
                object_repr=_clean_text(object_repr, 200), detail=_clean_detail(detail), prev_mac=head.mac)
    row.mac = row_mac(row)
    row._sealed = True
    row.save()
    return row


def record(event: str, *, request=None, user=None, username: str = "", obj=None,
           outcome: str = "success", **detail):
    """Append one audit row. ``event``: a short code (login, login_failed, export, view_unmasked…);
    ``obj``: the object acted on (its str is kept); ``detail``: JSON-serialisable extras.
    Returns the row, or None if writing failed (logged; the caller's work goes on)."""
    if user is None and request is not None:
        u = getattr(request, "user", None)
        user = u if (u is not None and u.is_authenticated) else None
    if not username and user is not None:
        username = user.get_username()
    object_repr = str(obj) if obj is not None else ""
    if obj is not None and getattr(obj, "_meta", None) is not None and getattr(obj, "pk", None) is not None:
        detail.setdefault("object", {"type": obj._meta.label_lower, "id": str(obj.pk)})
    try:
        with transaction.atomic():  # a savepoint inside the caller's transaction
            row = _append(event, user=user, username=username, ip=client_ip(request),
                          object_repr=object_repr, outcome=outcome, detail=detail)
    except Exception:
        logger.exception("安全审计日志写入失败：%s %s", event, username)
        return None
    transaction.on_commit(lambda: _forward(row))
    return row


# --- forwarding to a central collector (JSON lines file and/or syslog) ----------------------
@functools.lru_cache(maxsize=4)
def _stream(jsonl_path: str, syslog_address: str) -> logging.Logger | None:
    if not jsonl_path and not syslog_address:
        return None
    log = logging.getLogger("secure.audit.stream")
    log.propagate = False
    log.setLevel(logging.INFO)
    for h in list(log.handlers):
        log.removeHandler(h)
    if jsonl_path:
        log.addHandler(logging.handlers.WatchedFileHandler(jsonl_path, encoding="utf-8"))
    if syslog_address:
        if syslog_address.startswith("/"):
            address = syslog_address
        else:
            host, _, port = syslog_address.rpartition(":")
            address = (host or syslog_address, int(port) if port.isdigit() else 514)
        handler = logging.handlers.SysLogHandler(address=address,
                                                 facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
        handler.setFormatter(logging.Formatter("mdtj-audit: %(message)s"))
        log.addHandler(handler)
    return log


def as_dict(row) -> dict:
    return {"seq": row.seq, "at": timezone.localtime(row.at).isoformat(), "event": row.event,
            "event_label": event_label(row.event), "outcome": row.outcome, "user_id": row.user_id,
            "username": row.username, "ip": row.ip, "object": row.object_repr, "detail": row.detail,
            "prev_mac": row.prev_mac, "mac": row.mac}


def _forward(row) -> None:
    log = _stream(getattr(settings, "AUDIT_JSONL_PATH", "") or "", getattr(settings, "AUDIT_SYSLOG_ADDRESS", "") or "")
    if log is None:
        return
    try:
        log.info(json.dumps(as_dict(row), ensure_ascii=False, separators=(",", ":")))
    except Exception:
        logger.exception("安全审计日志转发失败")


# --- views of unmasked personal data ---------------------------------------------------------
@dataclass
class _Seen:
    objects: dict = field(default_factory=dict)      # (label, pk) → (repr, kinds)
    searches: list = field(default_factory=list)     # (kind, masked term)


_current: contextvars.ContextVar[_Seen | None] = contextvars.ContextVar("secure_audit_seen", default=None)


def unmasked(obj, *kinds: str) -> None:
    """Note that a full (unmasked) ``kinds`` value of ``obj`` is shown to the current user. In a
    request this is gathered into one ``view_unmasked`` row when the response is ready; outside
    one (a script) it is recorded at once."""
    seen = _current.get()
    if seen is None:
        record("view_unmasked", obj=obj, fields=[SENSITIVE_LABELS.get(k, k) for k in kinds])
        return
    key = (obj._meta.label_lower if getattr(obj, "_meta", None) else type(obj).__name__, str(getattr(obj, "pk", obj)))
    _, known = seen.objects.get(key, ("", set()))
    seen.objects[key] = (_describe(obj), known | set(kinds))


def _describe(obj) -> str:
    """What the auditor reads: the object, and the case it belongs to (a party's case)."""
    text = str(obj)
    if getattr(obj, "_meta", None) is not None:
        text = f"{obj._meta.verbose_name} {text}"
        case = getattr(obj, "case", None) if getattr(obj, "case_id", None) else None
        if case is not None:
            text += f"（案件 {getattr(case, 'exchange_id', case.pk)}）"
    return text[:100]


def shown(obj, value, kind: str, see: bool) -> str:
    """The one way screens show a sensitive value: masked, or — for a user who may see it —
    in full and noted for the audit log (``unmasked``)."""
    from secure.masking import mask

    if not see:
        return mask(value, kind)
    if value:
        unmasked(obj, kind)
    return value


def searched(kind: str, term: str) -> None:
    """A search by a full ID number / phone (kept masked in the log)."""
    from secure.masking import mask

    seen = _current.get()
    if seen is None:
        record("search_sensitive", fields=[SENSITIVE_LABELS.get(kind, kind)], term=mask(term, kind))
    else:
        seen.searches.append((kind, mask(term, kind)))


class AuditContextMiddleware:
    """Collects what one request showed unmasked (``unmasked``/``searched``) and writes it as
    one row each after the view and its template ran — not one row per table cell."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(_Seen())
        try:
            response = self.get_response(request)
            self.flush(request, _current.get())
        finally:
            _current.reset(token)
        return response

    @staticmethod
    def flush(request, seen: _Seen | None) -> None:
        if seen is None:
            return
        where = {"path": request.path[:200], "method": request.method}
        for kind, term in seen.searches:
            record("search_sensitive", request=request, fields=[SENSITIVE_LABELS.get(kind, kind)],
                   term=term, **where)
        if seen.objects:
            items = list(seen.objects.items())
            kinds = sorted({k for _, (_, ks) in items for k in ks})
            first = items[0][1][0]
            label = first if len(items) == 1 else f"{first} 等 {len(items)} 条"
            record("view_unmasked", request=request, obj=label, count=len(items),
                   fields=[SENSITIVE_LABELS.get(k, k) for k in kinds],
                   objects=[{"type": t, "id": pk, "repr": r} for (t, pk), (r, _) in items[:MAX_OBJECTS_LISTED]],
                   **where)


# --- exports ---------------------------------------------------------------------------
def export(request, what: str, *, rows: int, filters=None, unmasked_fields=(), **detail):
    """Record an export: what, how many rows, under which filter (the query string or a dict)."""
    if filters is None and request is not None:
        filters = {k: (v if len(v) > 1 else v[0]) for k, v in request.GET.lists() if k not in ("export",)}
    return record("export", request=request, obj=what, rows=rows, filters=filters or {},
                  unmasked=[SENSITIVE_LABELS.get(k, k) for k in unmasked_fields], **detail)


def provenance_line(user, at: dt.datetime | None = None) -> str:
    """The exporter and time a file carries: 导出人：张三（zhangsan） 导出时间：2026-12-07 14:30."""
    at = timezone.localtime(at or timezone.now())
    who = ""
    if user is not None and getattr(user, "is_authenticated", False):
        full = (user.get_full_name() or "").strip() if hasattr(user, "get_full_name") else ""
        who = f"{full}（{user.get_username()}）" if full else user.get_username()
    return f"导出人：{who or '系统'}　导出时间：{at:%Y-%m-%d %H:%M}"


def _safe_cell(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    return ("'" + value) if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def stamp_workbook(wb, ws, user, *, what: str, filters=None, rows: int | None = None) -> None:
    """An exported workbook carries who exported it and when (Excel exports 带导出人和时间):
    document properties, the data sheet's printed header and footer, and a last sheet
    “导出信息”. Imports read the first (data) sheet only, so a re-import is unaffected."""
    line = provenance_line(user)
    wb.properties.creator = user.get_username() if getattr(user, "is_authenticated", False) else "系统"
    wb.properties.title = what[:200]
    wb.properties.description = line
    printable = line.replace("&", "&&")
    ws.oddHeader.center.text = printable
    ws.oddFooter.center.text = printable + "　第 &P 页，共 &N 页"
    info = wb.create_sheet("导出信息")
    who, _, when = line.partition("　")
    info.append(["导出人", _safe_cell(who.removeprefix("导出人："))])
    info.append(["导出时间", when.removeprefix("导出时间：")])
    info.append(["导出内容", _safe_cell(what)])
    if rows is not None:
        info.append(["条数", rows])
    if filters:
        text = "；".join(f"{k}={v}" for k, v in (filters.items() if isinstance(filters, dict) else filters))
        info.append(["筛选条件", _safe_cell(_clean_text(text, 2000))])
    info.append(["说明", "本表记录导出信息，导入时不读取；导出行为已记入安全审计日志。"])


# --- configuration check ------------------------------------------------------------------
from django.core import checks  # noqa: E402


@checks.register(checks.Tags.security, deploy=True)
def check_audit_key(app_configs=None, **kwargs):
    try:
        _key(getattr(settings, "AUDIT_HMAC_KEY", ""))
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="secure.E001")]
    return []


# --- verification and retention ----------------------------------------------------------
@dataclass
class Problem:
    seq: int | None
    row_id: int | None
    message: str


def verify_chain(chunk: int = 2000) -> list[Problem]:
    """Walk the chain; a list of problems, the first (by position) first. Empty = intact."""
    from secure.models import AuditChainHead, SecurityEvent

    problems: list[Problem] = []
    expected_seq: int | None = None
    prev_mac = ""
    first = True
    start = None
    last = None
    qs = SecurityEvent.objects.order_by("seq")
    purge_marks: dict[int, str] = {}
    for row in qs.iterator(chunk_size=chunk):
        if first:
            first = False
            start = row
            if row.seq != 1:
                expected_seq, prev_mac = row.seq, row.prev_mac  # judged below, once purges are known
            else:
                expected_seq = 1
        if row.seq != expected_seq:
            problems.append(Problem(row.seq, row.id, f"第 {expected_seq}–{row.seq - 1} 行缺失（被删除），"
                                                    f"在序号 {row.seq}（ID {row.id}）处发现"))
        elif row.prev_mac != prev_mac:
            problems.append(Problem(row.seq, row.id, f"序号 {row.seq}（ID {row.id}）的上一行校验值与上一行不符"
                                                    "（前面的行被删除、替换或插入）"))
        if row_mac(row) != row.mac:
            problems.append(Problem(row.seq, row.id, f"序号 {row.seq}（ID {row.id}）的校验值不符：该行被修改或伪造"))
        elif row.event == "audit_purge":
            through = row.detail.get("through_seq")
            if isinstance(through, int):
                purge_marks[through] = str(row.detail.get("through_mac", ""))
        if row.event == "audit_chain_head_rebuilt":
            problems.append(Problem(row.seq, row.id, f"序号 {row.seq}（ID {row.id}）：审计链头记录曾缺失并被重建，"
                                                    "之前的末尾几行可能被删除"))
        expected_seq, prev_mac, last = row.seq + 1, row.mac, row
    if start is not None and start.seq != 1:
        mark = purge_marks.get(start.seq - 1)
        if mark is None or mark != start.prev_mac:
            problems.insert(0, Problem(start.seq, start.id, f"第 1–{start.seq - 1} 行缺失，且没有对应的到期清理记录"
                                                            f"（在序号 {start.seq}，ID {start.id} 处发现）"))
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if last is not None:
            problems.append(Problem(None, None, "审计链头记录缺失"))
    else:
        if head.seal and head.seal != head_seal(head.seq, head.mac):
            problems.append(Problem(None, None, "审计链头的校验值不符：链头被修改"))
        if last is not None and (head.seq != last.seq or head.mac != last.mac):
            problems.append(Problem(head.seq, None, f"链头记录最后序号为 {head.seq}，但最后一行是序号 {last.seq}："
                                                    f"末尾的 {max(head.seq - last.seq, 0)} 行被删除"
                                                    if head.seq > last.seq else
                                                    f"链头与最后一行（序号 {last.seq}）不一致"))
        if last is None and head.seq:
            problems.append(Problem(head.seq, None, f"链头记录最后序号为 {head.seq}，但审计表是空的：全部记录被删除"))
    problems.sort(key=lambda p: (p.row_id is None, p.seq or 0))  # rows first, the head last
    return problems


def retention_days() -> int:
    return max(int(getattr(settings, "AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS) or 0), MIN_RETENTION_DAYS)


def purge(now: dt.datetime | None = None) -> int:
    """Delete the oldest rows older than the retention period (never younger than 180 days),
    as one prefix of the chain, and append an ``audit_purge`` row naming where the chain now
    starts (seq and MAC of the last deleted row) so verification still holds. Returns the count."""
    from secure.models import AuditChainHead, SecurityEvent

    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=retention_days())
    with transaction.atomic():
        AuditChainHead.objects.filter(pk=1).update(seq=F("seq"))  # the chain's lock: no append meanwhile
        young = SecurityEvent.objects.filter(at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
        old = SecurityEvent.objects.filter(at__lt=cutoff)
        if young is not None:
            old = old.filter(seq__lt=young)
        last = old.order_by("-seq").first()
        if last is None:
            return 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET LOCAL mdtj.audit_purge = 'on'")
        deleted = SecurityEvent.objects.all()._purge_prefix(last.seq)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET LOCAL mdtj.audit_purge = 'off'")
        row = record("audit_purge", username="system", through_seq=last.seq, through_mac=last.mac,
                     deleted=deleted, before=timezone.localtime(cutoff).isoformat(), retention_days=retention_days())
        if row is None:
            raise RuntimeError("审计日志清理记录写入失败，已撤销本次清理")
    return deleted


def verify_task() -> int:
    """The nightly check (django-q2 schedule “安全审计日志完整性校验”): its result goes into the
    chain itself, so a broken chain shows on the auditor's screen and at the central collector."""
    problems = verify_chain()
    record("audit_verify", username="system", outcome="failure" if problems else "success",
           problems=len(problems), first=problems[0].message if problems else "")
    return len(problems)


def ensure_purge_schedule() -> bool:
    """The daily django-q2 schedule of ``purge`` (created by ``purge_audit_log --install-schedule``)."""
    from django_q.models import Schedule

    _, created = Schedule.objects.get_or_create(name="安全审计日志到期清理", defaults={
        "func": "secure.audit.purge", "schedule_type": Schedule.DAILY, "repeats": -1, "next_run": timezone.now()})
    return created
