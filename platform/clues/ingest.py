"""Ingest a channel's file: raw kept untouched, clean record derived, idempotent, per record.

    result = ingest("hotline12345", "/path/file.jsonl", origin="command", user=None)
    result.counts  → {"read": N, "new": N, "updated": N, "unchanged": N, "rejected": N}

How it stays fast and safe:
- the file is streamed (readers.py) and handled in chunks of CHUNK records (``_pieces`` reads
  and cleans, ``Run.write`` writes; one thread: a reading thread ahead of the writer was measured
  to gain nothing — both sides are Python under one GIL, and PostgreSQL's share already overlaps
  with the streamed COPY);
- per chunk, one query fetches the stored hashes of the chunk's record keys; identical records are
  only counted (one UPDATE of last_seen/times_seen for the whole chunk);
- new records are written with bulk inserts inside one transaction (raw, clue/case, parties,
  history rows); if anything in that transaction fails, it is rolled back and the chunk is
  replayed record by record, each in its own savepoint — so a bad record never blocks good ones
  and a record is never half-written;
- changed records (an update feed) are written in bulk too (``Deriver.bulk_changed``, with the
  same one-by-one replay on failure): the previous payload is kept (RawRecordVersion), the clean
  record is re-derived in place (its id, status, assignee, links stay);
- a record that is valid JSON with an id but cannot be cleaned is stored raw (so a rule change
  and ``reclean`` can fix it) and reported as rejected with its reason.

Invariant: read == new + updated + unchanged + rejected.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from clues import bulkcopy, readers
from clues.addrmatch import MatchCache, Matched
from clues.clean import CompiledRule
from clues.models import (Channel, Clue, ClueParty, IngestBatch, RawRecord, RawRecordVersion,
                          Rejection)
from clues.rules import compile_rule, ensure_rule
from clues.sources import adapter_for
from clues.sources.base import Adapter
from lowcode import hooks

logger = logging.getLogger(__name__)

CHUNK = 1000
CHANGE_REASON = "数据归集"
# what the model signals fire per saved row; ingest announces its chunk once instead
MUTED_EVENTS = ("records_changed", "records_deleted")


class UnknownSource(ValueError):
    pass


@dataclass
class IngestResult:
    batch: IngestBatch
    file_error: str = ""

    @property
    def counts(self) -> dict:
        return self.batch.counts()

    def __getitem__(self, key):
        return self.counts[key]


def payload_hash(payload: dict) -> str:
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(payload: dict) -> tuple[dict, str, str]:
    """(JSON-safe payload, its canonical JSON text, its hash) with one serialisation: the text is
    what payload_hash hashes, and COPY writes it as the stored payload (jsonb ignores key order)."""
    odd = []

    def default(value):
        odd.append(value)
        return str(value)
    try:
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=default)
    except TypeError:  # keys of mixed types cannot be sorted: the long way
        payload = _jsonable(payload)
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    else:
        if odd:  # dates and the like: store what the hash saw
            payload = json.loads(text)
    return payload, text, hashlib.sha256(text.encode("utf-8")).hexdigest()


_MINUTE = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::00)?$")


def content_form(value: Any) -> Any:
    """A payload as a format-blind value, for telling a re-sent record from a changed one: what a
    JSON Lines record and the same record exported to .xlsx have in common — lists and objects
    written as JSON text in a cell, numbers typed as numbers (or as text), empty cells left out,
    a time with or without ":00" seconds."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = content_form(v)
            if v not in (None, "", [], {}):
                out[str(k).strip()] = v
        return out
    if isinstance(value, list):
        return [content_form(v) for v in value]
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{" and text[-1:] in "]}":
            try:
                return content_form(json.loads(text))
            except ValueError:
                pass
        m = _MINUTE.match(text)
        return f"{m.group(1)} {m.group(2)}" if m else text
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)):
        return str(value)
    return str(value)


def same_content(stored: Any, received: Any) -> bool:
    return content_form(stored) == content_form(received)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def derived_hash(std: dict | None, matched: Matched, error: str) -> str:
    if std is None:
        return hashlib.sha256(("error:" + error).encode()).hexdigest()
    data = {"std": std, "addr": [matched.quality, getattr(matched.region, "pk", None), matched.standard]}
    return payload_hash(data)


def _standard_id(m: Matched):
    return getattr(m.standard_obj, "pk", None) if m is not None else None


@dataclass
class Pending:
    """One record on its way: what was read and what cleaning made of it."""

    line: int
    raw: dict
    excerpt: str
    record_key: str = ""
    source_id: str = ""
    phash: str = ""
    payload_text: str = ""        # canonical JSON of raw (set by prepare; empty in reclean)
    std: dict | None = None
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    matched: Matched | None = None
    chash: str = ""
    case_id: int | None = None    # the aggregated case written (kind "case"), for the hook


@dataclass
class Prepared:
    """A cleaned chunk on its way to the writer (see ``Run.write``)."""

    pending: list[Pending] = field(default_factory=list)
    refused: list[tuple] = field(default_factory=list)  # (line, record key, reason, excerpt)


@dataclass
class Piece:
    """What the reading side hands the writing side: one chunk as read and cleaned."""

    read: int = 0                                          # records read (counted in batch.read)
    unreadable: list[tuple] = field(default_factory=list)  # (line, reason, excerpt) of bad lines
    prepared: Prepared = field(default_factory=Prepared)
    fraction: float | None = None                          # how far into the file


class Deriver:
    """Turns standard dicts into clean records for one channel and one run."""

    def __init__(self, channel: Channel, compiled: CompiledRule, adapter: Adapter, batch: IngestBatch | None,
                 user=None):
        self.channel = channel
        self.rule = compiled
        self.adapter = adapter
        self.batch = batch
        self.user = user
        self.match = MatchCache()
        self._district = None
        self._regions_by_code: dict[str, Any] = {}

    # -- cleaning (no database writes) ----------------------------------------------------
    def prepare(self, item: readers.Item) -> Pending:
        p = Pending(item.line, item.raw, item.excerpt or readers.excerpt_of(item.raw))
        p.raw, p.payload_text, p.phash = canonical(item.raw)
        sid = p.raw.get(self.rule.id_field)
        if isinstance(sid, float) and sid.is_integer():
            sid = int(sid)
        p.source_id = str(sid).strip() if isinstance(sid, (str, int)) and not isinstance(sid, bool) else ""
        if p.source_id:
            from clues.normalise import fullwidth_to_halfwidth

            p.source_id = fullwidth_to_halfwidth(p.source_id)[:64]
            p.record_key = f"{self.channel.key}:{p.source_id}"
        self.clean(p)
        return p

    def prepare_chunk(self, items: list[readers.Item]) -> Prepared:
        """Clean a chunk (no database writes): records with a key, and the refused ones."""
        out = Prepared()
        for item in items:
            try:
                p = self.prepare(item)
            except Exception:  # noqa: BLE001 — a record must never stop the run
                logger.exception("cleaning failed at line %s", item.line)
                out.refused.append((item.line, "", "清洗时发生系统错误，请联系管理员", readers.excerpt_of(item.raw)))
                continue
            if not p.record_key:
                out.refused.append((p.line, "", p.error or f"缺少编号字段“{self.rule.id_field}”", p.excerpt))
                continue
            out.pending.append(p)
        return out

    def clean(self, p: Pending) -> None:
        result = self.adapter.clean(p.raw, self.rule)
        p.std, p.error, p.warnings = result.standard, result.error, result.warnings
        if p.std:
            extra = p.std["extra"]
            hint = extra.get("grid") or extra.get("street") or None
            p.matched = self.match(p.std["address"], hint if isinstance(hint, str) else None)
        else:
            p.matched = Matched()
        if p.std is not None and self.rule.kind == "case" and self.region_for(p) is None:
            p.std, p.error = None, "系统中尚未配置区域（区/街道/社区），无法归集案件"
        p.chash = derived_hash(p.std, p.matched, p.error)

    def district(self):
        if self._district is None:
            from orgs.models import Region

            self._district = Region.objects.filter(level=Region.Level.DISTRICT).order_by("sort", "code").first() or False
        return self._district or None

    def region_for(self, p: Pending):
        code = (p.std or {}).get("extra", {}).get("region_code")
        if code:
            if code not in self._regions_by_code:
                from orgs.models import Region

                self._regions_by_code[code] = Region.objects.filter(code=str(code)).first()
            if self._regions_by_code[code] is not None:
                return self._regions_by_code[code]
        if p.matched is not None and p.matched.region is not None:
            return p.matched.region
        return self.district()

    # -- building rows ---------------------------------------------------------------------
    def raw_values(self, p: Pending) -> dict:
        now = timezone.now()
        return {"channel_id": self.channel.key, "source_id": p.source_id, "record_key": p.record_key,
                "payload": p.raw, "payload_hash": p.phash, "first_seen": now, "last_seen": now,
                "last_batch_id": getattr(self.batch, "pk", None), **self.quality_fields(p)}

    def raw_row(self, p: Pending) -> RawRecord:
        return RawRecord(**self.raw_values(p))

    def quality_fields(self, p: Pending) -> dict:
        std = p.std or {}
        return {"clean_hash": p.chash, "clean_error": p.error[:500], "warnings": p.warnings[:20],
                "type_missed": bool(std.get("type_missed")),
                "address_quality": p.matched.quality if p.std else "",
                "address_standard_id": _standard_id(p.matched) if p.std else None}

    def clue_values(self, p: Pending) -> dict:
        std, m = p.std, p.matched
        region = self.region_for(p)
        extra = dict(std["extra"])
        if std["prefixes"]:
            extra["prefixes"] = std["prefixes"]
        if p.warnings:
            extra["warnings"] = p.warnings[:20]
        if m.components:
            extra["address_components"] = _jsonable(m.components)
        return {
            "channel_id": self.channel.key, "source_id": std["source_id"], "occurred_at": std["occurred_at"],
            "title": std["title"], "text": std["description"], "type_code": std["type_code"],
            "type_label": std["type_label"],
            "people": [x["name"] or (x.get("surname", "") + "某某" if x.get("surname") else "不详")
                       for x in std["parties"]],
            "address_raw": std["address_raw"], "address": std["address"],
            "address_standard_id": _standard_id(m), "address_quality": m.quality,
            "region_id": getattr(region, "pk", None), "region_path": region.path if region is not None else "",
            "extra": extra,
        }

    def clue_party_values(self, p: Pending) -> list[dict]:
        return [{"role": x["role"][:32], "name": x["name"][:100], "name_known": x["name_known"],
                 "phone": x["phone"], "phone_masked": x["phone_masked"][:32], "id_number": x["id_number"]}
                for x in p.std["parties"]]

    def clue_parties(self, p: Pending) -> list[ClueParty]:
        return [ClueParty(**values) for values in self.clue_party_values(p)]

    def case_values(self, p: Pending) -> dict:
        from cases.states import initial_state
        from cases.timelimits import deadline_for
        from lowcode.registry import get_dictionary

        std, m = p.std, p.matched
        region = self.region_for(p)
        registered = std["registered_at"] or std["occurred_at"] or timezone.now()
        aggregation = {"record_key": std["record_key"], "type_label": std["type_label"],
                       "type_missed": std["type_missed"], "channel_status": std["status_label"],
                       "address_quality": m.quality, "address_standard": m.standard,
                       "address_standard_id": _standard_id(m)}
        if std["prefixes"]:
            aggregation["prefixes"] = std["prefixes"]
        if p.warnings:
            aggregation["warnings"] = p.warnings[:20]
        extra_in = dict(std["extra"])
        mediation_type = ""
        mt = extra_in.pop("mediation_type", "")
        if mt:
            types = get_dictionary("mediation_type")
            by_label = {e.label: c for c, e in types.items()}
            mediation_type = mt if mt in types else by_label.get(mt, "")
            if not mediation_type:
                aggregation["mediation_type"] = mt
        tags = extra_in.pop("tags", None)
        extra_in.pop("region_code", None)
        aggregation.update(extra_in)
        return {
            "title": (std["title"] or std["type_label"] or std["source_id"])[:200],
            "description": std["description"], "case_type": std["type_code"], "source": self.channel.key,
            "status": std["status"] or initial_state(std["type_code"]), "party_count": max(1, len(std["parties"])),
            "address": std["address"], "occurred_at": std["occurred_at"], "registered_at": registered,
            "deadline": deadline_for(std["type_code"], registered), "region_id": region.pk,
            "region_path": region.path, "mediation_type": mediation_type,
            "tags": tags if isinstance(tags, list) else [],
            "extra": {"aggregation": _jsonable(aggregation)},
        }

    def case_parties(self, p: Pending, case) -> list:
        from cases.models import Party

        return [Party(case=case, **values) for values in self.case_party_values(p)]

    def case_party_values(self, p: Pending) -> list[dict]:
        out = []
        roles = self.rule.party_roles
        for i, x in enumerate(p.std["parties"]):
            role = roles.get(x["role"], x["role"] if x["role"] in roles.values() else "")
            if not role:
                role = "applicant" if i == 0 else "respondent"
            extra = {}
            if not x["name_known"]:
                extra.update({"name_known": False, "surname": x.get("surname", ""), "name_raw": x.get("name_raw", "")})
            if x["phone_masked"]:
                extra["phone_masked"] = x["phone_masked"]
            out.append({"role": role, "name": (x["name"] or "不详")[:100], "id_number": x["id_number"],
                        "phone": x["phone"], "extra": extra})
        return out

    # -- writing, bulk (new records only) ---------------------------------------------------
    def bulk_new(self, new: list[Pending]) -> None:
        """Insert a chunk of new records (COPY on PostgreSQL, see clues.bulkcopy)."""
        from cases.models import Case, Party

        if not new:
            return
        good = [p for p in new if p.std is not None]
        case_ids = {}
        if self.rule.kind == "case" and good:
            rows = [{"exchange_id": p.std["source_id"], "registrant_id": None, **self.case_values(p)} for p in good]
            ids = bulkcopy.insert_rows(Case, rows, history=True, user=self.user, reason=CHANGE_REASON)
            case_ids = {p.record_key: pk for p, pk in zip(good, ids)}
            for p, pk in zip(good, ids):
                p.case_id = pk
            parties = [{"case_id": case_ids[p.record_key], **values}
                       for p in good for values in self.case_party_values(p)]
            bulkcopy.insert_rows(Party, parties, history=True, user=self.user, reason=CHANGE_REASON)
        raws = []
        for p in new:
            row = self.raw_values(p)
            row["case_id"] = case_ids.get(p.record_key)
            if p.payload_text:
                row[bulkcopy.PREPARED_JSON] = {"payload": p.payload_text}
            raws.append(row)
        raw_ids = bulkcopy.insert_rows(RawRecord, raws)
        if self.rule.kind == "event" and good:
            raw_by_key = {p.record_key: pk for p, pk in zip(new, raw_ids)}
            rows = [{"record_key": p.record_key, "raw_id": raw_by_key[p.record_key], **self.clue_values(p)}
                    for p in good]
            clue_ids = bulkcopy.insert_rows(Clue, rows, history=True, user=self.user, reason=CHANGE_REASON)
            parties = [{"clue_id": clue_id, **values}
                       for p, clue_id in zip(good, clue_ids) for values in self.clue_party_values(p)]
            bulkcopy.insert_rows(ClueParty, parties)

    # -- writing, bulk (changed records) -----------------------------------------------------
    def bulk_changed(self, changed: list[Pending]) -> list[Pending]:
        """Update a chunk of changed records in place, as ``write_one`` would one by one (previous
        payloads kept as versions, clean records re-derived, their parties replaced), in a few
        statements per chunk (clues.bulksave). Returns the records left to ``write_one``: no
        stored clean record yet, a cleaning error, content changed back meanwhile (rare)."""
        from cases.models import Case, Party
        from secure import crypto

        from clues import bulksave

        raws = {r.record_key: r for r in RawRecord.objects.select_for_update()
                .filter(record_key__in=[p.record_key for p in changed]).defer("payload")}
        event = self.rule.kind == "event"
        if event:
            held = {c.raw_id: c for c in Clue.objects.filter(raw_id__in=[r.pk for r in raws.values()])}
        else:
            # regions joined: the save receivers read the case's region and its parents (coordinates)
            held = Case.objects.select_related("region__parent__parent").in_bulk(
                [r.case_id for r in raws.values() if r.case_id is not None])
        todo, rest = [], []
        for p in changed:
            raw = raws.get(p.record_key)
            clean = None if raw is None else held.get(raw.pk if event else raw.case_id)
            if clean is None or p.std is None or raw.payload_hash == p.phash:
                rest.append(p)
            else:
                todo.append((p, raw, clean))
        if not todo:
            return rest
        now = timezone.now()
        self._keep_versions([raw.pk for _, raw, _ in todo], now)
        cleans, parties = [], []
        for p, raw, clean in todo:
            raw.payload = crypto.encrypt(p.payload_text) if p.payload_text else p.raw  # text: encrypted as is
            raw.payload_hash, raw.last_seen, raw.last_batch = p.phash, now, self.batch
            raw.times_seen += 1
            for k, v in self.quality_fields(p).items():
                setattr(raw, k, v)
            if event:
                values = self.clue_values(p)
            else:  # what Case.save adds (region path, deadline) case_values already holds
                values = self.case_values(p)
                values["extra"] = {**(clean.extra or {}), **values["extra"]}
                p.case_id = clean.pk
            for k, v in values.items():
                setattr(clean, k, v)
            clean._change_reason, clean._history_user = CHANGE_REASON, self.user
            cleans.append(clean)
            if not event:
                for party in self.case_parties(p, clean):
                    party._change_reason = CHANGE_REASON
                    parties.append(party)
        model, party_model = (Clue, ClueParty) if event else (Case, Party)
        bulksave.save_many(model, cleans, user=self.user, reason=CHANGE_REASON)
        ids = [c.pk for c in cleans]
        old_parties = list(party_model.objects.filter(**{f"{'clue' if event else 'case'}_id__in": ids}))
        bulksave.delete_many(party_model, old_parties)
        if event:  # no history, no signals: as the new records' COPY
            bulkcopy.insert_rows(ClueParty, [{"clue_id": clean.pk, **values} for (p, _, clean) in todo
                                             for values in self.clue_party_values(p)])
        else:
            bulksave.create_many(Party, parties)
        bulksave.save_many(RawRecord, [raw for _, raw, _ in todo])
        return rest

    def _keep_versions(self, raw_ids: list[int], now) -> None:
        """The stored payloads become versions: copied inside the database (the ciphertext as
        it is; no decryption and re-encryption in Python)."""
        q = connection.ops.quote_name
        v, r = RawRecordVersion._meta.db_table, RawRecord._meta.db_table
        with connection.cursor() as cur:
            for i in range(0, len(raw_ids), 500):
                part = raw_ids[i:i + 500]
                cur.execute(f"INSERT INTO {q(v)} (raw_id, payload, payload_hash, received_at, replaced_at, batch_id) "
                            f"SELECT id, payload, payload_hash, last_seen, %s, %s FROM {q(r)} "
                            f"WHERE id IN ({', '.join(['%s'] * len(part))})",
                            [now, getattr(self.batch, "pk", None), *part])

    # -- writing, one record ---------------------------------------------------------------
    def write_one(self, p: Pending) -> str:
        """Create, update or confirm one record, in the caller's savepoint. Returns
        new / updated / unchanged / rejected."""
        raw = RawRecord.objects.select_for_update().filter(record_key=p.record_key).first()
        if raw is None:
            raw = self.raw_row(p)
            raw.save()
            self.rederive(raw, p)
            return "rejected" if p.error else "new"
        if raw.payload_hash == p.phash:
            RawRecord.objects.filter(pk=raw.pk).update(last_seen=timezone.now(), times_seen=F("times_seen") + 1,
                                                       last_batch=self.batch)
            if raw.clean_error:
                p.error = raw.clean_error
                return "rejected"
            return "unchanged"
        RawRecordVersion.objects.create(raw=raw, payload=raw.payload, payload_hash=raw.payload_hash,
                                        received_at=raw.last_seen, batch=self.batch)
        raw.payload, raw.payload_hash = p.raw, p.phash
        raw.last_seen, raw.times_seen, raw.last_batch = timezone.now(), raw.times_seen + 1, self.batch
        self.rederive(raw, p)
        return "rejected" if p.error else "updated"

    def rederive(self, raw: RawRecord, p: Pending) -> bool:
        """Bring raw's clean record in line with ``p`` (already cleaned). Returns True if a clean
        record was created (rather than updated). Saves ``raw``."""
        from cases.models import Case

        created = False
        for k, v in self.quality_fields(p).items():
            setattr(raw, k, v)
        if p.std is not None:
            if self.rule.kind == "event":
                clue = Clue.objects.filter(raw=raw).first()
                values = self.clue_values(p)
                if clue is None:
                    clue = Clue(record_key=raw.record_key, raw=raw, **values)
                    created = True
                else:
                    for k, v in values.items():
                        setattr(clue, k, v)
                clue._change_reason = CHANGE_REASON
                clue._history_user = self.user
                clue.save()
                clue.parties.all().delete()
                parties = self.clue_parties(p)
                for party in parties:
                    party.clue = clue
                ClueParty.objects.bulk_create(parties)
            else:
                case = raw.case or Case.objects.filter(exchange_id=p.std["source_id"], source=self.channel.key).first()
                if case is None:
                    self._check_case_id(p)
                    case = Case(exchange_id=p.std["source_id"], registrant=None)
                    created = True
                values = self.case_values(p)
                if not created:
                    values["extra"] = {**(case.extra or {}), **values["extra"]}
                for k, v in values.items():
                    setattr(case, k, v)
                case._change_reason = CHANGE_REASON
                case._history_user = self.user
                case.save()
                case.parties.all().delete()
                for party in self.case_parties(p, case):
                    party._change_reason = CHANGE_REASON
                    party.save()
                raw.case = case
                p.case_id = case.pk
        raw.save()
        return created

    def _check_case_id(self, p: Pending) -> None:
        from cases.models import Case

        other = Case.objects.filter(exchange_id=p.std["source_id"]).exclude(source=self.channel.key) \
            .values_list("source", flat=True).first()
        if other is not None:
            raise RecordRejected(f"案件编号“{p.std['source_id']}”已被来源“{other}”的案件使用，无法归集")


class RecordRejected(Exception):
    pass


class WrongFile(readers.FileRejected):
    """The file's columns belong to another channel (or to none)."""


class Run:
    """One ingest run over one file (or one reclean)."""

    def __init__(self, deriver: Deriver, batch: IngestBatch):
        self.d = deriver
        self.batch = batch
        self.rejections: list[Rejection] = []
        self.written_keys: list[str] = []  # new or updated in the current chunk, for the hook
        self.written_case_ids: list[int] = []

    def reject(self, line: int | None, record_key: str, reason: str, excerpt: str = "") -> None:
        self.batch.rejected += 1
        self.rejections.append(Rejection(batch=self.batch, line=line, record_key=record_key[:100],
                                         reason=reason[:500], excerpt=excerpt))

    def flush_rejections(self) -> None:
        if self.rejections:
            Rejection.objects.bulk_create(self.rejections)
            self.rejections = []

    def write(self, prepared: Prepared) -> None:
        """Write one cleaned chunk: classify against what is stored, insert / update, count."""
        for line, key, reason, excerpt in prepared.refused:
            self.reject(line, key, reason, excerpt)
        pending = prepared.pending
        if not pending:
            self.flush_rejections()
            return
        existing = {r["record_key"]: r for r in RawRecord.objects.filter(
            record_key__in=[p.record_key for p in pending]).values("id", "record_key", "payload_hash", "clean_error")}
        new, same, changed = [], [], []
        for p in pending:
            row = existing.get(p.record_key)
            if row is None:
                new.append(p)
            elif row["payload_hash"] == p.phash:
                same.append((p, row))
            else:
                changed.append(p)
        if changed:  # the same content in another file format (.xlsx after .jsonl) is unchanged
            stored = dict(RawRecord.objects.filter(pk__in=[existing[p.record_key]["id"] for p in changed])
                          .values_list("id", "payload"))
            really = []
            for p in changed:
                row = existing[p.record_key]
                if same_content(stored.get(row["id"]), p.raw):
                    same.append((p, row))
                else:
                    really.append(p)
            changed = really
        if same:
            RawRecord.objects.filter(pk__in=[row["id"] for _, row in same]).update(
                last_seen=timezone.now(), times_seen=F("times_seen") + 1, last_batch=self.batch)
            for p, row in same:
                if row["clean_error"]:
                    self.reject(p.line, p.record_key, row["clean_error"], p.excerpt)
                else:
                    self.batch.unchanged += 1
        # the model signals of the records saved one by one (updates, adopted cases) stay quiet:
        # the chunk is announced once, new and updated records alike (``announce``)
        with hooks.muted(*MUTED_EVENTS):
            if new:
                self._write_new(new)
            if changed:
                self._write_changed(changed)
        self.flush_rejections()
        self.announce()

    def announce(self) -> None:
        """Tell extensions (duplicate model, warnings) which records this chunk wrote — one
        event per chunk; ``case_ids``: the aggregated cases among them (kind "case")."""
        if self.written_keys:
            hooks.fire("records_ingested", channel=self.d.channel.key, kind=self.d.rule.kind,
                       record_keys=self.written_keys, case_ids=self.written_case_ids)
            self.written_keys, self.written_case_ids = [], []

    def _write_new(self, new: list[Pending]) -> None:
        if self.d.rule.kind == "case":
            from cases.models import Case

            ids = [p.std["source_id"] for p in new if p.std is not None]
            taken = set(Case.objects.filter(exchange_id__in=ids).values_list("exchange_id", flat=True)) if ids else set()
            if taken:  # an existing case with that number: adopt or refuse, record by record
                for p in [p for p in new if p.std is not None and p.std["source_id"] in taken]:
                    self._write_one(p)
                new = [p for p in new if p.std is None or p.std["source_id"] not in taken]
        try:
            with transaction.atomic():
                self.d.bulk_new(new)
        except Exception:  # noqa: BLE001 — replay one by one: isolate the bad record
            logger.warning("bulk write of %s records failed; replaying one by one", len(new), exc_info=True)
            for p in new:
                self._write_one(p)
            return
        for p in new:
            self._count(p, "rejected" if p.error else "new")

    def _write_changed(self, changed: list[Pending]) -> None:
        """Changed records in bulk, in one transaction; as with new records, a failure rolls it
        back and the chunk is replayed record by record (a bad record never blocks good ones)."""
        try:
            with transaction.atomic():
                rest = self.d.bulk_changed(changed)
        except Exception:  # noqa: BLE001 — replay one by one: isolate the bad record
            logger.warning("bulk update of %s records failed; replaying one by one", len(changed), exc_info=True)
            for p in changed:
                p.case_id = None
                self._write_one(p)
            return
        left = {id(p) for p in rest}
        for p in changed:
            if id(p) in left:
                self._write_one(p)
            else:
                self._count(p, "rejected" if p.error else "updated")

    def _write_one(self, p: Pending) -> None:
        try:
            with transaction.atomic():
                outcome = self.d.write_one(p)
        except RecordRejected as exc:
            p.error = str(exc)
            outcome = "rejected"
        except IntegrityError:
            logger.warning("integrity error on %s", p.record_key, exc_info=True)
            p.error = "与已有数据冲突（编号重复），该记录未保存"
            outcome = "rejected"
        except Exception:  # noqa: BLE001
            logger.exception("writing %s failed", p.record_key)
            p.error = "保存时发生系统错误，该记录未保存，请联系管理员"
            outcome = "rejected"
        self._count(p, outcome)

    def _count(self, p: Pending, outcome: str) -> None:
        if outcome == "rejected":
            self.reject(p.line, p.record_key, p.error, p.excerpt)
        else:
            setattr(self.batch, outcome, getattr(self.batch, outcome) + 1)
            if outcome in ("new", "updated"):
                self.written_keys.append(p.record_key)
                if p.case_id is not None:
                    self.written_case_ids.append(p.case_id)


def _rule_for(channel_key: str):
    rule = ensure_rule(channel_key)
    channel = Channel.objects.filter(key=channel_key).first()
    if rule is None or channel is None:
        known = "、".join(Channel.objects.values_list("key", flat=True)) or "尚无数据来源，请先运行 load_metadata"
        raise UnknownSource(f"未知的来源编码“{channel_key}”（可用：{known}）")
    return rule, channel


def _check_columns(keys: Iterable[str], compiled: CompiledRule, channel: Channel, source_name: str) -> None:
    """Whole-file refusal when the columns show the file belongs to another channel."""
    keys = set(keys)
    if compiled.id_field in keys:
        return
    from clues.models import CleaningRule

    best, best_score = None, 0.0
    for other in CleaningRule.objects.exclude(source=channel.key):
        cols = {other.id_field, *(other.field_map or {})}
        if other.id_field in keys:
            score = len(keys & cols) / max(1, len(keys))
            if score > best_score:
                best, best_score = other, score
    if best is not None:
        other_name = Channel.objects.filter(key=best.source).values_list("name", flat=True).first() or best.source
        raise WrongFile(
            f"文件“{source_name}”看起来是「{other_name}」（{best.source}）的数据（含“{best.id_field}”字段），"
            f"不是「{channel.name}」（{channel.key}）的数据，整个文件未导入。请选择正确的来源后重新导入。")
    overlap = keys & compiled.columns
    if not overlap:
        shown = "、".join(sorted(keys)[:8])
        raise WrongFile(
            f"文件“{source_name}”的字段（{shown}）与「{channel.name}」的格式不符（应含“{compiled.id_field}”等字段），"
            "整个文件未导入。")


def _pinned_metadata(func):
    """Read the metadata version once for the whole run (dictionaries, time limits), like one
    request does, instead of once per record."""
    import functools

    from lowcode.registry import pin_version_for_request, unpin_version

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        token = pin_version_for_request()
        try:
            return func(*args, **kwargs)
        finally:
            unpin_version(token)
    return wrapper


def _report_progress(batch: IngestBatch, fraction: float | None) -> None:
    """Counts and percent so far, visible at once to the progress page (outside any transaction)."""
    if fraction is not None:
        batch.percent = min(99, int(fraction * 100))
    IngestBatch.objects.filter(pk=batch.pk).update(percent=batch.percent, **batch.counts())


def _pieces(source, compiled: CompiledRule, channel: Channel, display: str, deriver: Deriver):
    """Read and clean the file chunk by chunk (no database writes).

    A chunk ends after CHUNK records, or before a record whose id is already in it (the second
    report of a record in one file must see the first one stored). Raises WrongFile with
    ``exc.read`` (every record of the file, counted) and FileRejected with ``exc.piece`` (what was
    read before the file broke off, to be written)."""
    items = source.items()
    piece, chunk, keys, checked = Piece(), [], set(), False

    def cleaned(piece: Piece, chunk: list) -> Piece:
        piece.prepared = deriver.prepare_chunk(chunk)
        piece.fraction = source.fraction()
        return piece
    try:
        for item in items:
            if item.raw is not None and "__columns__" in item.raw:
                _check_columns(item.raw["__columns__"], compiled, channel, display)
                checked = True
                continue
            piece.read += 1
            if item.error:
                piece.unreadable.append((item.line, item.error, item.excerpt))
                continue
            if not checked:
                _check_columns(item.raw.keys(), compiled, channel, display)
                checked = True
            key = str(item.raw.get(compiled.id_field, "")).strip()
            if len(chunk) >= CHUNK or (key and key in keys):
                piece.read -= 1  # this record belongs to the next piece
                yield cleaned(piece, chunk)
                piece, chunk, keys = Piece(read=1), [], set()
            chunk.append(item)
            if key:
                keys.add(key)
        yield cleaned(piece, chunk)
    except WrongFile as exc:
        exc.read = piece.read + _drain(items)  # nothing of this file is written: count it all
        raise
    except readers.FileRejected as exc:
        exc.piece = cleaned(piece, chunk)
        raise


@_pinned_metadata
def ingest(channel_key: str, path_or_stream, origin: str = "command", user=None, name: str = "",
           batch: IngestBatch | None = None) -> IngestResult:
    """Ingest one file (path or binary stream) of a channel. Never raises for bad data: problems
    end up as rejections (per record) or ``file_error`` (whole file). Raises UnknownSource for a
    source key without channel and rule. ``batch``: an existing (queued) batch to run under — the
    background upload creates it when the file arrives; its counts and percent are updated
    after every chunk."""
    rule, channel = _rule_for(channel_key)
    compiled = compile_rule(rule)
    display = name or (Path(path_or_stream).name if isinstance(path_or_stream, (str, Path))
                       else Path(getattr(path_or_stream, "name", "") or "").name)
    if batch is None:
        batch = IngestBatch.objects.create(channel=channel, file_name=display[:255], origin=origin,
                                           user=user if getattr(user, "pk", None) else None)
    else:
        batch.status, batch.started_at = "running", timezone.now()
        IngestBatch.objects.filter(pk=batch.pk).update(status="running", started_at=batch.started_at)
    deriver = Deriver(channel, compiled, adapter_for(channel_key), batch, user=batch.user)
    run = Run(deriver, batch)
    result = IngestResult(batch)

    def take(piece: Piece) -> None:
        batch.read += piece.read
        for line, reason, excerpt in piece.unreadable:
            run.reject(line, "", reason, excerpt)
        run.write(piece.prepared)
    source = None
    try:
        source = readers.Source(path_or_stream, display)
        for piece in _pieces(source, compiled, channel, display, deriver):
            take(piece)
            _report_progress(batch, piece.fraction)
        if batch.read == 0:
            result.file_error = "文件为空，没有任何记录"
            run.rejections.append(Rejection(batch=batch, line=None, reason=result.file_error))
    except WrongFile as exc:
        # nothing of this file is ingested: every record in it counts as rejected
        result.file_error = str(exc)
        batch.read += getattr(exc, "read", 0)
        batch.rejected = batch.read
        run.rejections.append(Rejection(batch=batch, line=None, reason=result.file_error[:500]))
    except readers.FileRejected as exc:
        # unreadable (rest of the) file: what was read before is kept; the rest counts as one
        result.file_error = str(exc)
        if getattr(exc, "piece", None) is not None:
            take(exc.piece)
        batch.read += 1
        run.reject(None, "", result.file_error)
    finally:
        if source is not None:
            source.close()
    run.flush_rejections()
    batch.status = "failed" if result.file_error and not (batch.new or batch.updated or batch.unchanged) else "done"
    batch.message = result.file_error[:500]
    batch.finished_at = timezone.now()
    batch.percent = 100
    batch.save()
    return result


def _drain(items) -> int:
    n = 0
    try:
        for item in items:
            if item.raw is not None and "__columns__" in item.raw:
                continue
            n += 1
    except readers.FileRejected:
        pass
    return n


# --- reclean -------------------------------------------------------------------------------
@_pinned_metadata
def reclean(channel_key: str, user=None) -> IngestResult:
    """Re-derive every stored raw record of a channel with the current rule (and the current
    address library). Unchanged results are not written."""
    rule, channel = _rule_for(channel_key)
    compiled = compile_rule(rule)
    batch = IngestBatch.objects.create(channel=channel, file_name="", origin="reclean",
                                       user=user if getattr(user, "pk", None) else None)
    d = Deriver(channel, compiled, adapter_for(channel_key), batch, user=batch.user)
    run = Run(d, batch)
    qs = RawRecord.objects.filter(channel_id=channel_key).order_by("pk")
    last = 0
    while True:
        raws = list(qs.filter(pk__gt=last)[:CHUNK])
        if not raws:
            break
        last = raws[-1].pk
        with_clue = set(Clue.objects.filter(raw_id__in=[r.pk for r in raws]).values_list("raw_id", flat=True)) \
            if compiled.kind == "event" else set()
        for raw in raws:
            batch.read += 1
            p = Pending(0, raw.payload, readers.excerpt_of(raw.payload), record_key=raw.record_key,
                        source_id=raw.source_id, phash=raw.payload_hash)
            try:
                d.clean(p)
            except Exception:  # noqa: BLE001
                logger.exception("reclean: cleaning %s failed", raw.record_key)
                p.std, p.error = None, "清洗时发生系统错误，请联系管理员"
            has_clean = raw.pk in with_clue if compiled.kind == "event" else raw.case_id is not None
            if p.chash == raw.clean_hash and (has_clean or p.std is None):
                if p.error:
                    run.reject(None, raw.record_key, p.error, p.excerpt)
                else:
                    batch.unchanged += 1
                continue
            try:
                with transaction.atomic(), hooks.muted(*MUTED_EVENTS):
                    created = d.rederive(raw, p)
            except RecordRejected as exc:
                p.error = str(exc)
                created = None
            except Exception:  # noqa: BLE001
                logger.exception("reclean: writing %s failed", raw.record_key)
                p.error = "保存时发生系统错误，请联系管理员"
                created = None
            if p.error:
                run.reject(None, raw.record_key, p.error, p.excerpt)
            else:
                if created:
                    batch.new += 1
                else:
                    batch.updated += 1
                run.written_keys.append(raw.record_key)
                if p.case_id is not None:
                    run.written_case_ids.append(p.case_id)
        run.flush_rejections()
        run.announce()
    batch.status = "done"
    batch.finished_at = timezone.now()
    batch.save()
    return IngestResult(batch)


# --- rejected-records report -----------------------------------------------------------------
def report_dir() -> Path:
    return Path(getattr(settings, "INGEST_REPORT_DIR", settings.BASE_DIR / "var" / "ingest-reports"))


def write_report(batch: IngestBatch, path: Path | None = None, directory: Path | None = None) -> Path:
    """The batch's rejected records as CSV (UTF-8 with BOM for Excel; formula-looking cells
    neutralised; excerpts and reasons masked — names, phones, ID numbers, see clues.redact).
    Returns the path and remembers it on the batch."""
    from clues import redact
    from lowcode.excel import neutralise

    if path is None:
        stamp = timezone.localtime(batch.started_at).strftime("%Y%m%d-%H%M%S")
        path = (directory or report_dir()) / f"rejected-{batch.channel_id}-{stamp}-{batch.pk}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["来源", "文件", "行号", "记录标识", "原因", "原始内容（节选，已脱敏）"])
        keys = redact.keys()
        for r in batch.rejections.order_by("line", "id").iterator(chunk_size=2000):
            w.writerow([neutralise(v) for v in (batch.channel_id, batch.file_name,
                                                "" if r.line is None else r.line, r.record_key,
                                                redact.mask_message(r.reason), redact.mask_excerpt(r.excerpt, keys))])
    IngestBatch.objects.filter(pk=batch.pk).update(report_path=str(path))
    batch.report_path = str(path)
    return path
