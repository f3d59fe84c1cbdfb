"""Value normalisers and validators used by the cleaning rules. Pure functions, no database."""
from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import ZoneInfo

from django.conf import settings

from secure import crypto

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# full-width digits, Latin letters and a few ASCII signs → half-width; Chinese punctuation
# (，。：；（）) is left alone on purpose — it belongs to the text.
_FW_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)
             if chr(code - 0xFEE0).isalnum() or chr(code - 0xFEE0) in "-#*+./@"}
_FW_TABLE[0x3000] = 0x20  # ideographic space
_FW_TABLE[0x2014] = ord("-")  # — in 3—2—501 is rare but seen
_FW_TABLE[0x2212] = ord("-")


def fullwidth_to_halfwidth(text: str) -> str:
    return text.translate(_FW_TABLE) if text else text


def collapse_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- phones --------------------------------------------------------------------------------
PHONE_MASK = re.compile(r"[*＊xX]{2,}")
DEFAULT_PHONE_PATTERN = r"^(1[3-9]\d{9}|0\d{9,11}|\d{7,8})$"


def normalise_phone(value: str) -> tuple[str, bool]:
    """('17957070221', False) for '+86 179-5707-0221'; ('179****1423', True) for a masked phone:
    a masked phone stays masked (it is not a phone we can search or call)."""
    v = fullwidth_to_halfwidth(str(value or "")).strip()
    v = re.sub(r"[\s\-()（）]", "", v)
    if v.startswith("+86"):
        v = v[3:]
    elif v.startswith("0086"):
        v = v[4:]
    elif v.startswith("86") and len(v) == 13:
        v = v[2:]
    if PHONE_MASK.search(v):
        return PHONE_MASK.sub(lambda m: "*" * len(m.group()), v), True
    return v, False


# --- names ---------------------------------------------------------------------------------
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
                     "司徒", "夏侯", "轩辕", "端木", "长孙", "宇文", "申屠", "钟离", "南宫", "西门")
ANON_SUFFIX = re.compile(r"^(?P<surname>[\u4e00-\u9fff]{1,2}?)(先生|女士|小姐|师傅|老师|阿姨|大爷|大妈|大姐|大哥|老板|"
                         r"某某|某|XX|xx|ＸＸ|\*\*?|＊＊?)$")
UNKNOWN_NAMES = {"", "未知", "不详", "匿名", "对方", "无", "市民", "群众", "来电人", "报警人", "某人", "null", "None"}


def normalise_name(value) -> dict:
    """{'name': '王某某', 'known': False, 'surname': '王', 'raw': '王先生'} for an incomplete
    name; {'name': '张三', 'known': True} otherwise; unknown without surname: name ''."""
    raw = collapse_spaces(fullwidth_to_halfwidth(str(value or "")))
    if raw in UNKNOWN_NAMES:
        return {"name": "", "known": False, "surname": "", "raw": raw}
    m = ANON_SUFFIX.match(raw)
    if m:
        surname = m.group("surname")
        if len(surname) == 2 and surname not in COMPOUND_SURNAMES:
            surname = surname[0] if len(raw) > 2 else surname
        return {"name": f"{surname}某某", "known": False, "surname": surname, "raw": raw}
    return {"name": raw, "known": True}


# --- ID numbers (GB 11643-1999) ------------------------------------------------------------
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number_problem(value: str) -> str:
    """'' when ``value`` is a valid resident ID number, else the reason (Chinese)."""
    v = value.upper()
    if len(v) == 15 and v.isdigit():
        birth = "19" + v[6:12]
    elif len(v) == 18 and v[:17].isdigit() and (v[17].isdigit() or v[17] == "X"):
        total = sum(int(c) * w for c, w in zip(v[:17], _WEIGHTS))
        if _CHECK[total % 11] != v[17]:
            return "校验位错误"
        birth = v[6:14]
    else:
        return "位数或字符不对（应为18位，最后一位可为X）"
    try:
        dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        return "出生日期无效"
    return ""


def normalise_id_number(value) -> str:
    return re.sub(r"\s", "", fullwidth_to_halfwidth(str(value or ""))).upper()


# --- prefixes ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def strip_prefixes(text: str, patterns) -> tuple[str, list[str]]:
    """Remove leading markers such as 【转办】【重复来电】; returns (text, removed markers)."""
    removed: list[str] = []
    for pattern in patterns or ():
        m = _compiled(pattern).match(text)
        if m and m.end() > 0:
            removed.extend(re.findall(r"[【\[]([^】\]]+)[】\]]", m.group()) or [m.group().strip()])
            text = text[m.end():].lstrip()
    return text, removed


# --- times ---------------------------------------------------------------------------------
EXCEL_CELL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


class TimeFormatError(ValueError):
    pass


def parse_time(value, formats) -> dt.datetime | None:
    """An aware datetime from ``value`` trying ``formats`` in turn. Tokens besides strftime
    formats: iso, epoch_ms, epoch_ms_wall (epoch milliseconds that encode the UTC+8 wall clock),
    epoch_s, excel (a datetime cell)."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=LOCAL_TZ)
    text = fullwidth_to_halfwidth(str(value)).strip() if not isinstance(value, (int, float)) else value
    for fmt in formats or ():
        try:
            if fmt in ("epoch_ms", "epoch_ms_wall", "epoch_s"):
                number = float(text)
                if isinstance(value, bool) or number != number:
                    continue
                seconds = number / 1000 if fmt != "epoch_s" else number
                if fmt == "epoch_ms_wall":
                    naive = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
                    return naive.replace(tzinfo=LOCAL_TZ)
                return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).astimezone(LOCAL_TZ)
            if not isinstance(text, str):
                continue
            if fmt == "iso":
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            elif fmt == "excel":
                continue
            else:
                parsed = dt.datetime.strptime(text, fmt)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)
        except (ValueError, OverflowError, OSError):
            continue
    # a date/time cell of an .xlsx file is read as "YYYY-MM-DD HH:MM:SS": unambiguous, always accepted
    if isinstance(text, str) and EXCEL_CELL_TIME.match(text):
        return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)
    raise TimeFormatError(f"时间“{str(value)[:40]}”不符合规定格式（{'、'.join(map(str, formats or ())) or '未配置'}）")


# --- blind index, once per value -----------------------------------------------------------
@functools.lru_cache(maxsize=20_000)
def _bidx(value: str, kind: str, key_marker: str) -> str:
    return crypto.blind_index(value, kind)


def cached_blind_index(value: str, kind: str) -> str:
    if not value:
        return ""
    return _bidx(value, kind, settings.BLIND_INDEX_KEY)
