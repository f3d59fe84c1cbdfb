"""Demo: the headline features with data (issue 18, item 2).

- the shipped channel samples (the outside formats' sample files, else the repository's dirty
  fixtures) ingested through the real pipeline (``clues.ingest``: raw records, clues, aggregated
  cases), its hooks run inline so the duplicate model and the warnings see them at once;
- a few "same case" verdicts confirmed by the district admin (一件事档案), the way the 重复线索清单
  does it (``dedup.actions.decide``);
- a case awaiting dispatch (发单审核通过, no order yet);
- the warnings of every case evaluated (every colour the data earns).

Idempotent and quick on a re-run: the samples come back unchanged, the confirmations and the case
awaiting dispatch are made once.

The extensions are reached by name (the app registry, their management command, the dotted path
of the 重复线索清单's confirm action): platform apps, demo included, import nothing from
extensions/ (.importlinter)."""
from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

CONFIRMED_GROUPS = 3


def sample_files() -> list[tuple[str, Path]]:
    """(channel, file) of the sample files found: MDTJ_SAMPLES, the shared folder beside the
    checkout, else the repository's fixtures/ingest (``<channel>_dirty.jsonl``)."""
    from clues.models import Channel

    known = set(Channel.objects.values_list("key", flat=True))
    base = Path(settings.BASE_DIR)
    for folder in (os.environ.get("MDTJ_SAMPLES"), base.parent / "shared" / "formats" / "samples",
                   "/work/shared/formats/samples"):
        if folder and Path(folder).is_dir():
            found = [(p.stem, p) for p in sorted(Path(folder).glob("*.jsonl")) if p.stem in known]
            if found:
                return found
    return [(p.stem.split("_")[0], p) for p in sorted((base / "fixtures" / "ingest").glob("*.jsonl"))
            if p.stem.split("_")[0] in known]


def seed_channels() -> dict:
    from django.test.utils import override_settings

    from clues.ingest import ingest

    counts = {"files": 0, "new": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    with override_settings(HOOKS_QUEUE=False):  # the duplicate check and the warnings now, not in the queue
        for channel, path in sample_files():
            result = ingest(channel, path, origin="command")
            counts["files"] += 1
            for k in ("new", "updated", "unchanged", "rejected"):
                counts[k] += result[k]
    counts["confirmed"] = confirm_same_cases()
    counts["awaiting_dispatch"] = case_awaiting_dispatch()
    # a re-run that changed nothing skips the full re-evaluation (make run stays quick)
    counts["warnings"] = evaluate_warnings(full=bool(counts["new"] or counts["updated"] or counts["confirmed"]
                                                     or counts["awaiting_dispatch"]))
    return counts


def confirm_same_cases(n: int = CONFIRMED_GROUPS) -> int:
    """Confirm the best "same case" pairs between channels (once: not when files exist)."""
    from django.apps import apps
    from django.utils.module_loading import import_string

    from accounts.models import User

    if not apps.is_installed("extensions.dedup"):
        return 0
    DedupGroup, Pair = apps.get_model("dedup", "DedupGroup"), apps.get_model("dedup", "Pair")
    decide = import_string("extensions.dedup.actions.decide")
    refused = import_string("extensions.dedup.actions.DecisionError")
    user = User.objects.filter(username="demo_district").first()
    if user is None or DedupGroup.objects.exists():
        return 0
    done, used = 0, set()
    for pair in Pair.objects.filter(verdict="same", status="proposed").order_by("-score", "a_key")[:50]:
        if pair.a_key.split(":")[0] == pair.b_key.split(":")[0] or {pair.a_key, pair.b_key} & used:
            continue
        try:
            decide(pair, user, "confirm")
        except refused:
            continue
        used |= {pair.a_key, pair.b_key}
        done += 1
        if done >= n:
            break
    return done


def case_awaiting_dispatch() -> int:
    """One case whose dispatch request passed review and that has no order yet (发单管理 → 新建)."""
    from accounts.models import User
    from cases import actions as case_actions
    from cases.models import Case, HelpRequest
    from dispatch.actions import case_dispatched, dispatchable_cases

    staff = User.objects.filter(username="demo_district").first()
    if staff is None or dispatchable_cases(staff).exists():
        return 0
    case = (Case.objects.filter(status="mediating", registrant__username__startswith="demo_")
            .exclude(help_requests__kind="dispatch").order_by("-registered_at").first())
    if case is None:
        return 0
    HelpRequest.objects.create(case=case, kind="dispatch", reason="涉及多方当事人，申请专业调解组织介入",
                               expected_fee=5000, requested_by=case.registrant)
    Case.objects.filter(pk=case.pk).update(status=case_dispatched())
    case_actions.trace(case, "transition", "演示：发单审核通过", staff, "dispatch_review", case_dispatched())
    return 1


def evaluate_warnings(full: bool = True) -> dict:
    from io import StringIO

    from django.apps import apps
    from django.core.management import call_command
    from django.db.models import Count

    if not apps.is_installed("extensions.escalation"):
        return {}
    if full:
        call_command("evaluate_warnings", "--no-notify", stdout=StringIO())
    CaseWarning = apps.get_model("escalation", "CaseWarning")
    labels = dict(apps.get_model("escalation", "WarningLevel").objects.values_list("key", "label"))
    counts = CaseWarning.objects.values_list("level").annotate(n=Count("pk")).values_list("level", "n")
    return {labels.get(level, level): n for level, n in counts}  # 红色预警 16, not red 16
