"""Address normalisation and parsing: pure functions, no database.

``parse(text, vocab)`` turns a free-text Chinese address as the channels deliver it into
``Components`` — street/town, community/village, road + door number, estate, building, unit,
room — and ``Components.key`` is the normalised key the matcher looks up. What is tolerated:

- full-width characters (``文化路３１３号``) → NFKC half-width; spaces and punctuation dropped;
- province / city / district prefixes (``浙江省某市XX区``, the district's own name ``示范区``):
  a configurable list of known prefixes plus generic ``XX省`` / ``XX市`` / ``XX区``/``XX县``
  patterns at the start (never ``翠柳小区``, ``农贸市场``…);
- vague suffixes (``附近``, ``旁边``, ``对面``, ``门口``…) → stripped, ``vague`` set;
- unit forms: ``3幢2单元501室`` ≡ ``3-2-501`` ≡ ``3栋2单元501`` ≡ ``3号楼2单元501室`` ≡ ``3#2单元501``;
  ``5-301`` is building 5 room 301; floors (``5楼``/``5层``) are ignored;
- Chinese numerals before 幢/栋/号楼/单元/室/楼/层/组/网格 (``三幢二单元`` → ``3幢2单元``) — but not in
  names (``滨江一号`` stays);
- an estate's trailing ``小区`` is not significant (``翠柳小区`` ≡ ``翠柳``).

The key of an address is its *locator* — road + door number and/or estate; for addresses
without either, the community/village (+ 组/号) — followed by the canonical ``N幢N单元N室``.
Street and community names are *not* part of the key (they are often omitted); the matcher
checks them against the standard address's region instead.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Iterable

CJK = "\u4e00-\u9fff"

#: prefixes always stripped (the samples' placeholders); settings.ADDRESS_PREFIXES adds more
DEFAULT_PREFIXES = ("中国", "浙江省", "某省", "某市", "XX省", "XX市", "XX区", "XX县", "某区", "某县")

VAGUE_SUFFIXES = ("附近", "旁边", "对面", "门口", "周边", "一带", "边上", "东侧", "西侧", "南侧", "北侧",
                  "对过", "后面", "隔壁", "路口")
_VAGUE_RE = re.compile("(?:" + "|".join(VAGUE_SUFFIXES) + ")+$")

_PUNCT_RE = re.compile(r"[\s,，.。、;；:：'\"“”‘’`·()（）\[\]【】<>《》{}!！?？]+")
_DASHES = str.maketrans({"—": "-", "–": "-", "−": "-", "－": "-", "~": "-", "～": "-", "_": "-", "/": "-"})

# Chinese numerals directly before a unit word (not in names: 滨江一号 stays)
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_NUM_RE = re.compile(r"([零〇一二两三四五六七八九十百]+)(?=幢|栋|号楼|单元|室|楼|层|组|网格|座)")

_PROVINCE_RE = re.compile(rf"^(?:[{CJK}]{{2,3}}省|[{CJK}]{{2,8}}?自治区|(?:北京|上海|天津|重庆)市)")
_CITY_RE = re.compile(rf"^[{CJK}A-Z]{{2,6}}?(?:市|自治州|地区|盟)(?![场政民集区])")
_DISTRICT_RE = re.compile(
    rf"^[{CJK}A-Z]{{2,6}}?(?<![小社园校景厂营矿街片商城])(?:区|县|旗)(?![域划号])")
_STREET_RE = re.compile(rf"^[{CJK}]{{2,6}}?(?:街道|镇|乡)(?![路街道巷弄大])")
_COMMUNITY_RE = re.compile(rf"^[{CJK}]{{2,6}}?(?:社区|村)(?![路街道巷弄大委])")
_NOT_ADMIN_RE = re.compile("街道|镇|乡|社区|村|路|街|号|幢|栋")  # a generic 市/区 prefix never holds these
_GRID_RE = re.compile(r"^第?\d+网格")
_GENERIC_ROAD = rf"[{CJK}]{{1,8}}?(?:大道|大街|路|街|巷|弄|胡同)"
_NUMBER = r"(?P<num>\d+(?:-\d+)?)号(?!楼|院)"
_GROUP_RE = re.compile(r"^(?P<group>\d+)组")
_ROADLESS_NUMBER_RE = re.compile(r"^(?P<num>\d+(?:-\d+)?)号(?!楼)")

_BUILDING = r"(?P<b>\d+|[A-Z])(?:幢|栋|号楼|座|#楼|#|号院)"
_UNIT_WORD_RE = re.compile(
    _BUILDING + r"(?:(?P<u>\d+)单元)?(?:(?P<f>\d+)(?:楼|层))?(?:(?P<r>\d+)(?:室|号|户)?)?")
_UNIT_WORD_END_RE = re.compile(_UNIT_WORD_RE.pattern + "$")
_DASH3_RE = re.compile(r"(?<![\d-])(?P<b>\d+)-(?P<u>\d+)-(?P<r>\d+)(?:室|号|户)?$")
_DASH2_RE = re.compile(r"(?<![\d-])(?P<b>\d+)-(?P<r>\d{3,4})(?:室|号|户)?$")
_UNIT_ONLY_RE = re.compile(r"(?P<u>\d+)单元(?:(?P<r>\d+)(?:室|号|户)?)?$")
_ROOM_ONLY_RE = re.compile(r"(?P<r>\d+)室$")
_ESTATE_SUFFIX_RE = re.compile(r"(?<=[" + CJK + r"A-Z0-9]{2})小区$")


def cn_to_int(text: str) -> int | None:
    """一/十二/二十/一百零五/三零一 → int (None when not a plain numeral)."""
    if not text:
        return None
    if all(ch in _CN_DIGITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _cn_repl(m: re.Match) -> str:
    value = cn_to_int(m.group(1))
    return m.group(0) if value is None else str(value)


def to_halfwidth(text: str) -> str:
    """NFKC: full-width digits/letters/punctuation → half-width (``３１３`` → ``313``)."""
    return unicodedata.normalize("NFKC", text or "")


def standard_text(text: str) -> str:
    """How a standard address's text is stored: half-width, no whitespace."""
    return re.sub(r"\s+", "", to_halfwidth(text or ""))


def clean(text: str) -> str:
    """Half-width, upper-case Latin, no spaces or punctuation, one kind of dash, and Arabic
    numerals before unit words."""
    text = to_halfwidth(text).translate(_DASHES).upper()
    text = _PUNCT_RE.sub("", text)
    text = re.sub(r"-{2,}", "-", text).strip("-")
    return _CN_NUM_RE.sub(_cn_repl, text)


def strip_suffixes(text: str) -> tuple[str, bool]:
    """``学院路6号附近`` → (``学院路6号``, True)."""
    stripped = _VAGUE_RE.sub("", text)
    return stripped, stripped != text


@functools.lru_cache(maxsize=64)
def _known_prefixes(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({clean(p) for p in (*DEFAULT_PREFIXES, *prefixes) if p}, key=len, reverse=True))


def strip_prefixes(text: str, prefixes: Iterable[str] = ()) -> tuple[str, list[str]]:
    """Strip known prefixes (any order, longest first) and generic province/city/district
    patterns at the start. Returns the rest and what was stripped."""
    known = _known_prefixes(tuple(prefixes))
    stripped: list[str] = []
    generic = [_PROVINCE_RE, _CITY_RE, _DISTRICT_RE]
    changed = True
    while changed and text:
        changed = False
        for p in known:
            if text.startswith(p):
                stripped.append(p)
                text = text[len(p):]
                changed = True
                break
        if changed:
            continue
        for i, pattern in enumerate(generic):
            m = pattern.match(text)
            if m and not _NOT_ADMIN_RE.search(m.group(0)[:-1]):
                stripped.append(m.group(0))
                text = text[m.end():]
                generic = generic[i + 1:]  # province before city before district, each once
                changed = True
                break
    return text, stripped


def canonical_unit(building: str = "", unit: str = "", room: str = "") -> str:
    """(3, 2, 501) → ``3幢2单元501室``; parts may be missing."""
    out = ""
    if building:
        out += f"{building}幢"
    if unit:
        out += f"{unit}单元"
    if room:
        out += f"{room}室"
    return out


def estate_key(estate: str) -> str:
    """``翠柳小区`` → ``翠柳`` (the suffix is often left out); other names unchanged."""
    return _ESTATE_SUFFIX_RE.sub("", estate) if estate else ""


def _num(text: str | None) -> str:
    if not text:
        return ""
    if text.isdigit():
        return str(int(text))
    return text


def trie_regex(names: Iterable[str]) -> str:
    """A regex matching any of ``names``, longest first, as a compact trie (fast with
    thousands of names: each level branches on distinct first characters)."""
    trie: dict = {}
    for name in names:
        if not name:
            continue
        node = trie
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}
    if not trie:
        return ""

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        if ends:
            body = (body if len(branches) > 1 else "(?:" + body + ")") + "?"
        return body

    return "(?:" + build(trie) + ")"


class Vocabulary:
    """Names the parser should recognise as such: regions (streets, communities, grids) of the
    tree, roads and estates of the address library, and extra prefixes (district and
    ancestors). Build once, reuse for every parse — the regexes are compiled here."""

    def __init__(self, regions: Iterable[str] = (), roads: Iterable[str] = (), estates: Iterable[str] = (),
                 prefixes: Iterable[str] = ()):
        self.regions = frozenset(clean(r) for r in regions if r)
        self.roads = frozenset(clean(r) for r in roads if r)
        self.estates = frozenset(clean(e) for e in estates if e)
        self.prefixes = tuple(sorted({p for p in prefixes if p}))
        self._region_re = self._alternation(self.regions, "^", r"(?![路街巷弄]|大道|大街)")
        self._estate_re = self._alternation(self.estates, "^")
        road = trie_regex(self.roads) or None
        self._known_road_re = re.compile(f"(?P<road>{road}){_NUMBER}") if road else None
        self._known_road_bare_re = re.compile(f"(?P<road>{road})(?!\\d+号(?!楼))") if road else None
        self._generic_road_re = re.compile(f"(?P<road>{_GENERIC_ROAD}){_NUMBER}")

    @staticmethod
    def _alternation(names: Iterable[str], anchor: str, after: str = "") -> re.Pattern | None:
        alt = trie_regex(names)
        return re.compile(anchor + alt + after) if alt else None


EMPTY_VOCABULARY = Vocabulary()


@dataclass(frozen=True)
class Components:
    """A parsed address. ``street``/``community``/``grid`` are the names as written (known
    region names or generic ``XX街道``/``XX社区``/``XX村``); ``locality`` is unparsed text
    before the road."""

    street: str = ""
    community: str = ""
    grid: str = ""
    locality: str = ""
    road: str = ""
    number: str = ""
    estate: str = ""
    group: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    extra: str = ""
    vague: bool = False
    prefixes: tuple[str, ...] = field(default=())
    regions: tuple[str, ...] = field(default=())   # every region-like name, in order

    # -- keys ----------------------------------------------------------------------------
    @property
    def unit_part(self) -> str:
        return canonical_unit(self.building, self.unit, self.room)

    @property
    def door(self) -> str:
        return f"{self.road}{self.number}号" if self.road and self.number else ""

    @property
    def estate_key(self) -> str:
        return estate_key(self.estate)

    @property
    def roadless_locator(self) -> str:
        """For addresses without road and estate: community/village (+ 组, 号)."""
        if self.door or self.estate:
            return ""
        base = self.community or self.locality
        if not base:
            return ""
        tail = (f"{self.group}组" if self.group else "") + (f"{self.number}号" if self.number else "")
        return base + tail if (tail or self.building) else ""

    @property
    def locator(self) -> str:
        return (self.door + self.estate_key) or self.roadless_locator

    @property
    def key(self) -> str:
        """The normalised key; empty when the address has no locator (road+number, estate, or
        community + building/组/号)."""
        loc = self.locator
        return loc + self.unit_part if loc else ""

    def alias_keys(self) -> list[str]:
        """Keys under which this (standard) address is also found: without the estate, and
        without the road + number, when it has both."""
        if not (self.door and self.estate_key):
            return []
        return [self.door + self.unit_part, self.estate_key + self.unit_part]

    def as_dict(self) -> dict:
        d = {name: getattr(self, name) for name in _COMPONENT_FIELDS}
        d["prefixes"] = list(self.prefixes)
        d["regions"] = list(self.regions)
        d["key"] = self.key
        return d


_COMPONENT_FIELDS = tuple(f.name for f in fields(Components))


def parse(text: str, vocab: Vocabulary | None = None) -> Components:
    """Parse a free-text address into ``Components`` (never raises)."""
    vocab = vocab or EMPTY_VOCABULARY
    s = clean(text if isinstance(text, str) else "" if text is None else str(text))
    s, vague = strip_suffixes(s)
    s, prefixes = strip_prefixes(s, vocab.prefixes)
    parts: dict[str, str] = {}
    regions: list[str] = []

    # 1. region names at the start: known names first, then generic 街道/镇/乡, 社区/村, 第N网格
    while s:
        if vocab._estate_re is not None and vocab._estate_re.match(s):
            break  # 东湖新村 is an estate, not a village
        m = vocab._region_re.match(s) if vocab._region_re is not None else None
        if m is None:
            m = _GRID_RE.match(s)
            if m is None and not parts.get("street"):
                m = _STREET_RE.match(s)
            if m is None and not parts.get("community"):
                m = _COMMUNITY_RE.match(s)
        if m is None:
            break
        name = m.group(0)
        regions.append(name)
        slot = ("grid" if name.endswith("网格") else "street" if re.search("(?:街道|镇|乡)$", name)
                else "community")
        parts.setdefault(slot, name)
        s = s[m.end():]

    # 2. road + door number (known roads first, then generic 路/街/大道/巷/弄)
    road_m = None
    if vocab._known_road_re is not None:
        road_m = vocab._known_road_re.search(s)
    if road_m is None:
        road_m = vocab._generic_road_re.search(s)
    rest = s
    if road_m is not None:
        parts["locality"] = s[:road_m.start()]
        parts["road"] = road_m.group("road")
        parts["number"] = "-".join(_num(n) for n in road_m.group("num").split("-"))
        rest = s[road_m.end():]
        sub = re.match(r"之(\d+)", rest)  # 313号之1 ≡ 313-1号
        if sub and "-" not in parts["number"]:
            parts["number"] += "-" + _num(sub.group(1))
            rest = rest[sub.end():]
    elif vocab._known_road_bare_re is not None:
        bare = vocab._known_road_bare_re.search(s)
        if bare is not None:
            parts["locality"] = s[:bare.start()]
            parts["road"] = bare.group("road")
            rest = s[bare.end():]

    # 3. roadless villages: 3组15号
    if not parts.get("road"):
        m = _GROUP_RE.match(rest)
        if m:
            parts["group"] = _num(m.group("group"))
            rest = rest[m.end():]
        m = _ROADLESS_NUMBER_RE.match(rest)
        if m:
            parts["number"] = m.group("num")
            rest = rest[m.end():]

    # 4. building / unit / room at the end; the estate is what lies between
    unit_m = (_UNIT_WORD_END_RE.search(rest) or _DASH3_RE.search(rest) or _DASH2_RE.search(rest)
              or _UNIT_WORD_RE.search(rest))
    tail = ""
    if unit_m is not None:
        g = unit_m.groupdict()
        parts["building"] = _num(g.get("b"))
        parts["unit"] = _num(g.get("u"))
        parts["room"] = _num(g.get("r"))
        tail = rest[unit_m.end():]
        rest = rest[:unit_m.start()]
    else:
        m = _UNIT_ONLY_RE.search(rest) or _ROOM_ONLY_RE.search(rest)
        if m is not None:
            g = m.groupdict()
            parts["unit"] = _num(g.get("u"))
            parts["room"] = _num(g.get("r"))
            rest = rest[:m.start()]
    rest = rest.strip("-#的")
    if rest:
        parts["estate"] = rest
    if tail:
        parts["extra"] = tail
    return Components(vague=vague, prefixes=tuple(prefixes), regions=tuple(regions),
                      **{k: v for k, v in parts.items() if v})


def normalise_key(text: str, vocab: Vocabulary | None = None) -> str:
    """The normalised key of ``text`` ("" when it has no locator)."""
    return parse(text, vocab).key
