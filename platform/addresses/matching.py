"""Match free-text addresses against the standard address library (统一地址库).

``match(text)`` → ``AddressMatch(standard, quality, region, components, score)``:

=========  ==========================================================================  =====
quality    meaning                                                                     score
=========  ==========================================================================  =====
exact      the normalised key equals a standard address's key (or one of its aliases:  1.0 /
           the same address written without the estate, or without the road + number)  0.95
building   same road + number (or estate) and building; unit/room differ or missing.   0.8 /
           ``standard`` is the building's own entry if the library has one, else None  0.7
road       same road + number (or the same estate) only. ``standard`` is the door's     0.6
           own entry if the library has one, else None
region     no door matched; only street/community/grid recognised (in the text, the     ≤0.4
           ``hint``, or — weaker — from a road that lies in one community/street only)
none       nothing recognised                                                          0
=========  ==========================================================================  =====

``standard`` is never finer than what was matched (no room stands in for a building);
``nearest`` is always set for exact/building/road: ``standard`` if any, else a standard
address in that building / at that door (for coordinates). Scores drop by 0.1 for vague
addresses (``附近``…) and by 0.2 when the text names a street or community that contradicts the
matched standard address. ``region`` is the finest region known (the standard address's own
region for exact matches; the region shared by the building's / door's addresses otherwise).

Speed: a ``Matcher`` loads the whole active library into memory once (keys, aliases, doors,
buildings, region names) and never touches the database per record. It reloads when the
library or the region tree changes: at once in the same process (model signals bump a
generation counter), and in other processes within ``ADDRESS_MATCH_RECHECK_SECONDS``
(default 10 s: a count + max(updated_at) stamp). Bulk writes that bypass signals
(``bulk_create``/``update``) should call ``invalidate()``; the importer does. Tests that
roll back addresses between tests should call ``reset()``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from django.conf import settings
from django.db.models import Count, Max

from addresses import normalize
from addresses.models import StandardAddress
from orgs.models import Region

QUALITIES = ("exact", "building", "road", "region", "none")
QUALITY_LABELS = {"exact": "精确匹配", "building": "楼幢匹配", "road": "门牌匹配", "region": "仅区域", "none": "未匹配"}

# value fields loaded into memory (components JSON is left deferred)
_FIELDS = [f.attname for f in StandardAddress._meta.concrete_fields if f.attname != "components"]
_I = {name: i for i, name in enumerate(_FIELDS)}


@dataclass(frozen=True)
class AddressMatch:
    standard: StandardAddress | None
    quality: str
    region: Region | None
    components: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0
    nearest: StandardAddress | None = None   # for coordinates when ``standard`` is None

    @property
    def matched(self) -> bool:
        """Whether a standard address was found (exact, building or road)."""
        return self.quality in ("exact", "building", "road")

    @property
    def quality_label(self) -> str:
        return QUALITY_LABELS[self.quality]


class _Entry:
    __slots__ = ("id", "values", "street", "community", "grid", "region_id", "door_id", "precise", "level")

    def __init__(self, values: tuple, parsed: normalize.Components):
        self.values = values
        self.id = values[_I["id"]]
        self.street = values[_I["street_code"]]
        self.community = values[_I["community_code"]]
        self.grid = values[_I["grid_code"]]
        self.region_id = values[_I["region_id"]]
        self.door_id = parsed.locator            # the door (or estate / village locator) it belongs to
        # 0 door, 1 building, 2 unit / room: coarser entries first as a representative
        self.level = 2 if (parsed.unit or parsed.room) else 1 if parsed.building else 0
        self.precise = (self.level, _sortable(parsed.building), _sortable(parsed.unit), _sortable(parsed.room))

    def instance(self) -> StandardAddress:
        return StandardAddress.from_db("default", _FIELDS, self.values)


def _sortable(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (1 << 30, value)


@dataclass
class _Context:
    street: Region | None = None
    community: Region | None = None
    grid: Region | None = None

    @property
    def finest(self) -> Region | None:
        return self.grid or self.community or self.street

    def accepts(self, e: _Entry) -> bool:
        return ((self.street is None or e.street == self.street.code)
                and (self.community is None or e.community == self.community.code))


class _Index:
    def __init__(self, regions: list[Region], rows: Iterable[tuple], prefixes: Iterable[str]):
        self.regions_by_id = {r.pk: r for r in regions}
        for r in regions:  # parents from memory: no query when walking up
            if r.parent_id in self.regions_by_id:
                r.parent = self.regions_by_id[r.parent_id]
        self.regions_by_name: dict[str, list[Region]] = {}
        self.regions_by_code = {r.code: r for r in regions}
        for r in sorted(regions, key=lambda r: (r.level, r.sort, r.code)):
            self.regions_by_name.setdefault(normalize.clean(r.name), []).append(r)
        district_names = [r.name for r in regions if r.level == Region.Level.DISTRICT]
        rows = list(rows)
        # the library's own roads and estates (as parsed when saved) are known names
        roads = {row[_I["road"]] for row in rows if row[_I["road"]]}
        estates = {row[_I["estate"]] for row in rows if row[_I["estate"]]}
        self.vocab = normalize.Vocabulary(regions=[r.name for r in regions if r.level > Region.Level.DISTRICT], roads=roads,
                                          estates=estates, prefixes=[*district_names, *prefixes])
        self.by_key: dict[str, list[tuple[_Entry, bool]]] = {}
        self.by_building: dict[tuple, list[_Entry]] = {}
        self.by_door: dict[tuple, list[_Entry]] = {}
        self.road_areas: dict[str, set[tuple[str, str]]] = {}
        self.size = 0
        for row in rows:
            p = normalize.parse(row[_I["text"]], self.vocab)  # exactly as an input is parsed
            e = _Entry(row, p)
            self.size += 1
            if p.key:
                self.by_key.setdefault(p.key, []).append((e, True))
            for alias in p.alias_keys():
                self.by_key.setdefault(alias, []).append((e, False))
            for door in _door_keys(p):
                self.by_door.setdefault(door, []).append(e)
                if p.building:
                    self.by_building.setdefault((*door, p.building), []).append(e)
            if p.road:
                self.road_areas.setdefault(p.road, set()).add((e.street, e.community))

    # -- regions -------------------------------------------------------------------------
    def regions_named(self, names: Iterable[str]) -> _Context:
        ctx = _Context()
        found = {2: [], 3: [], 4: []}
        for name in names:
            for r in self.regions_by_name.get(name, ()):
                found.setdefault(r.level, []).append(r)
        streets, communities, grids = found[2], found[3], found[4]
        if streets:
            ctx.street = streets[0]
        if communities:
            unique = list({c.pk: c for c in communities}.values())
            under = [c for c in unique if ctx.street is None or c.parent_id == ctx.street.pk]
            if len(under) == 1:
                ctx.community = under[0]
            elif not under and len(unique) == 1:
                ctx.community, ctx.street = unique[0], None  # a community of another street: the finer wins
            # else: the same community name in several streets — unknown
        if grids:
            under = [g for g in grids if ctx.community is None or g.parent_id == ctx.community.pk]
            if len({g.pk for g in under}) == 1:
                ctx.grid = under[0]
                ctx.community = ctx.community or self.regions_by_id.get(ctx.grid.parent_id)
        if ctx.community is not None and ctx.street is None:
            ctx.street = self.regions_by_id.get(ctx.community.parent_id)
        return ctx

    def region_for(self, text: str) -> Region | None:
        """A region from a name or code (``青山镇``, ``新塘社区第1网格``, ``339901005``,
        ``竹溪村人民调解委员会``…): the finest recognised, or None."""
        text = normalize.clean(text or "")
        if not text:
            return None
        if text in self.regions_by_code:
            return self.regions_by_code[text]
        return self.regions_named(normalize.parse(text, self.vocab).regions).finest

    def common_region(self, entries: list[_Entry]) -> Region | None:
        for attr in ("grid", "community", "street"):
            codes = {getattr(e, attr) for e in entries}
            if len(codes) == 1 and next(iter(codes)):
                return self.regions_by_code.get(next(iter(codes)))
        return None


def _door_keys(p: normalize.Components) -> list[tuple]:
    """Door identities: road + number, estate, village locator."""
    keys = []
    if p.door:
        keys.append(("d", p.door))
    if p.estate_key:
        keys.append(("e", p.estate_key))
    if not keys and p.roadless_locator:
        keys.append(("c", p.community or p.locality, p.group, p.number))
    return keys


def _recheck_seconds() -> float:
    return float(getattr(settings, "ADDRESS_MATCH_RECHECK_SECONDS", 10))


def _prefixes() -> tuple[str, ...]:
    return tuple(getattr(settings, "ADDRESS_PREFIXES", ()) or ())


_generation = 0


def invalidate(*args, **kwargs) -> None:
    """Mark every matcher of this process stale (connected to the models' save/delete)."""
    global _generation
    _generation += 1


def library_stamp() -> tuple:
    """Changes whenever the library or the region tree changes (checked every few seconds)."""
    a = StandardAddress.objects.aggregate(n=Count("id"), m=Max("updated_at"), i=Max("id"))
    r = Region.objects.aggregate(n=Count("id"), i=Max("id"))
    return a["n"], a["m"], a["i"], r["n"], r["i"]


class Matcher:
    """An in-memory index of the active standard addresses. Thread-safe; cheap to call."""

    def __init__(self, recheck_seconds: float | None = None, prefixes: Iterable[str] | None = None):
        self.recheck_seconds = recheck_seconds
        self.prefixes = tuple(prefixes) if prefixes is not None else None
        self._index: _Index | None = None
        self._generation = -1
        self._stamp: tuple | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    # -- cache ---------------------------------------------------------------------------
    def index(self) -> _Index:
        idx = self._index
        recheck = self.recheck_seconds if self.recheck_seconds is not None else _recheck_seconds()
        now = time.monotonic()
        if idx is not None and self._generation == _generation and now - self._checked < recheck:
            return idx
        with self._lock:
            if self._index is not None and self._generation == _generation:
                if time.monotonic() - self._checked < recheck:
                    return self._index
                stamp = library_stamp()
                self._checked = time.monotonic()
                if stamp == self._stamp:
                    return self._index
            return self._load()

    def _load(self) -> _Index:
        generation = _generation
        stamp = library_stamp()
        regions = list(Region.objects.all())
        rows = StandardAddress.objects.filter(is_active=True).order_by("id").values_list(*_FIELDS)
        prefixes = self.prefixes if self.prefixes is not None else _prefixes()
        idx = _Index(regions, rows.iterator(chunk_size=5000), prefixes)
        self._index, self._generation, self._stamp, self._checked = idx, generation, stamp, time.monotonic()
        return idx

    def refresh(self) -> None:
        """Reload now."""
        with self._lock:
            self._load()

    def reset(self) -> None:
        """Forget the index (the next match loads it again)."""
        with self._lock:
            self._index = None

    @property
    def size(self) -> int:
        return self.index().size

    def region_for(self, text: str) -> Region | None:
        return self.index().region_for(text)

    # -- matching ------------------------------------------------------------------------
    def match(self, text: str, *, hint: str | None = None) -> AddressMatch:
        """Match one address. ``hint`` (optional): a region name/code the channel delivers
        next to the address (所属街道, 所属网格…), used for regions the text does not name."""
        idx = self.index()
        p = normalize.parse(text or "", idx.vocab)
        components = p.as_dict()
        ctx = idx.regions_named(p.regions)
        if hint:
            self._apply_hint(idx, ctx, hint)
        penalty = 0.1 if p.vague else 0.0

        def result(entries: list[_Entry], quality: str, score: float, conflict: bool):
            rep = min(entries, key=lambda e: (e.precise, e.id))
            region = (idx.regions_by_id.get(rep.region_id) if quality == "exact"
                      else idx.common_region(entries))
            score = round(max(score - penalty - (0.2 if conflict else 0.0), 0.05), 2)
            nearest = rep.instance()
            own = quality == "exact" or rep.level == {"building": 1, "road": 0}[quality]
            return AddressMatch(nearest if own else None, quality, region, components, score, nearest)

        # 1. exact: the key (or an alias key) of exactly one standard address
        if p.key and p.key in idx.by_key:
            cands, conflict = _narrow([c for c in idx.by_key[p.key]], ctx, lambda c: c[0])
            primary = [c for c in cands if c[1]]
            chosen = primary or cands
            ids = {c[0].id for c in chosen}
            doors = {c[0].door_id for c in chosen}
            if len(ids) == 1 and len(doors) == 1:
                return result([chosen[0][0]], "exact", 1.0 if chosen[0][1] else 0.95, conflict)
        doors = _door_keys(p)
        # 2. building: same door (road + number / estate / village) and building
        if p.building:
            for door in doors:
                cands = idx.by_building.get((*door, p.building))
                if cands:
                    cands, conflict = _narrow(cands, ctx, lambda e: e)
                    if len({e.door_id for e in cands}) == 1:
                        return result(cands, "building", 0.7 if (p.unit or p.room) else 0.8, conflict)
        # 3. road: same door
        for door in doors:
            cands = idx.by_door.get(door)
            if cands:
                cands, conflict = _narrow(cands, ctx, lambda e: e)
                if len({e.door_id for e in cands}) == 1:
                    return result(cands, "road", 0.6 if door[0] != "e" else 0.55, conflict)
        # 4. region: named in the text / hint, else a road lying in one area only
        region = ctx.finest
        if region is not None:
            base = {Region.Level.GRID: 0.4, Region.Level.COMMUNITY: 0.35}.get(region.level, 0.25)
            return AddressMatch(None, "region", region, components, round(max(base - penalty, 0.05), 2))
        if p.road and p.road in idx.road_areas:
            areas = idx.road_areas[p.road]
            guess = None
            if len({c for _, c in areas}) == 1:
                guess = idx.regions_by_code.get(next(iter(areas))[1])
            if guess is None and len({s for s, _ in areas}) == 1:
                guess = idx.regions_by_code.get(next(iter(areas))[0])
            if guess is not None:
                return AddressMatch(None, "region", guess, components, round(max(0.15 - penalty, 0.05), 2))
        return AddressMatch(None, "none", None, components, 0.0)

    def match_many(self, texts: Iterable[str]) -> list[AddressMatch]:
        return [self.match(t) for t in texts]

    @staticmethod
    def _apply_hint(idx: _Index, ctx: _Context, hint: str) -> None:
        hinted = idx.region_for(hint)
        if hinted is None:
            return
        chain = {}
        node = hinted
        while node is not None:
            chain[node.level] = node
            node = idx.regions_by_id.get(node.parent_id)
        street, community, grid = chain.get(2), chain.get(3), chain.get(4)
        if ctx.street is not None and street is not None and street.pk != ctx.street.pk:
            return  # the text says otherwise: the text wins
        if ctx.community is not None and community is not None and community.pk != ctx.community.pk:
            return
        ctx.street = ctx.street or street
        ctx.community = ctx.community or community
        ctx.grid = ctx.grid or grid


def _narrow(cands: list, ctx: _Context, entry_of) -> tuple[list, bool]:
    """Candidates consistent with the regions the text names; if none is, all of them with
    a conflict flag (the text may name the wrong street — the door still identifies it)."""
    if ctx.street is None and ctx.community is None:
        return cands, False
    kept = [c for c in cands if ctx.accepts(entry_of(c))]
    return (kept, False) if kept else (cands, True)


# --- the process-wide default matcher ---------------------------------------------------
_default: Matcher | None = None
_default_lock = threading.Lock()


def default_matcher() -> Matcher:
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Matcher()
    return _default


def match(text: str, *, hint: str | None = None) -> AddressMatch:
    """Match one free-text address against the standard address library."""
    return default_matcher().match(text, hint=hint)


def reset() -> None:
    """Drop the default matcher's index (tests: after rolling back the library)."""
    invalidate()
    if _default is not None:
        _default.reset()
