"""``make mutate``: break one critical line at a time and check that the tests guarding it fail.

Each mutation names a file, an exact snippet of it (found exactly once, or as often as listed),
its replacement and the tests to run. For each: the snippet is replaced in place, the tests run with ``-x -q -p no:randomly``
and must FAIL (the mutation is "killed"); the file is restored afterwards whatever happens (also on
Ctrl+C), with its modification time. A mutation whose tests still pass "survived": a guarded line
can break unnoticed. The script refuses to touch a file with uncommitted changes (another
developer's work in progress), and exits non-zero when a mutation survives, a snippet is no longer
found (the code moved on: update the list), or the unmutated tests do not pass to begin with.

    python tests/mutate.py              # all (about 15 minutes on two cores)
    python tests/mutate.py -k masking   # those whose name contains "masking"
    python tests/mutate.py --check      # only: is every snippet still found? (tests/test_mutate_list.py, in CI)

Not in CI (too slow); run it before stopping when one of these files changes."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str          # relative to the repository root
    original: str      # exact text, found exactly once in the file
    replacement: str
    tests: tuple[str, ...]
    count: int = 1     # how many times ``original`` occurs (all are replaced)


MUTATIONS = [
    # --- row scope ------------------------------------------------------------------------------------
    Mutation("scope: a region user sees every region", "platform/accounts/scope.py",
             '        return Q(**{f"{path_field}__startswith": prefix})',
             "        return Q()",
             ("tests/test_scope_and_sensitive_screens.py",)),
    Mutation("scope: a department user sees the district's region", "platform/accounts/scope.py",
             "    if not user.is_authenticated or not user.is_active or department_id(user) is not None:",
             "    if not user.is_authenticated or not user.is_active:",
             ("tests/test_department_scope.py",)),
    Mutation("dispatch scope: a mediator sees the colleagues' sign-ups", "platform/dispatch/scope.py",
             "    return qs.filter(organization=org, mediator=user)",
             "    return qs.filter(organization=org)",
             ("tests/test_dispatch_scope.py",)),
    Mutation("dispatch scope: orders awarded to any organisation visible", "platform/dispatch/scope.py",
             '| Q(awarded_org=org, state__in=["awarded", "mediating", "completed"]))',
             '| Q(state__in=["awarded", "mediating", "completed"]))',
             ("tests/test_dispatch_scope.py",)),
    # --- masking ---------------------------------------------------------------------------------------
    Mutation("masking: IDs of <= 8 characters unmasked", "platform/secure/masking.py",
             "    keep = min(4, len(value) // 4)\n",
             "    if len(value) <= 8:\n        return value\n    keep = min(4, len(value) // 4)\n",
             ("tests/test_masking.py",)),
    Mutation("masking: 15-digit IDs keep 4 at each end", "platform/secure/masking.py",
             "    keep = min(4, len(value) // 4)\n",
             "    keep = min(4, len(value) // 2)\n",
             ("tests/test_masking.py",)),
    Mutation("masking: 8-digit phones keep the prefix", "platform/secure/masking.py",
             "    head = min(3, len(value) - 8)\n",
             "    head = 3\n",
             ("tests/test_masking.py",)),
    Mutation("masking: the generic fallback returns the raw value", "platform/secure/masking.py",
             '    return GENERIC if _text(value) else ""',
             "    return _text(value)",
             ("tests/test_masking.py",)),
    # --- crypto ----------------------------------------------------------------------------------------
    Mutation("crypto: encrypt/decrypt switched from SM4-GCM to AES-GCM", "platform/secure/crypto.py",
             "Cipher(algorithms.SM4(key), modes.GCM(",
             "Cipher(algorithms.AES(key), modes.GCM(",
             ("tests/test_sensitive_fields.py",), count=2),
    Mutation("sensitive runtime field stored in clear", "platform/lowcode/sensitive.py",
             "    if value in EMPTY or is_protected(value):\n        return value\n",
             "    if True:\n        return value\n",
             ("tests/test_sensitive_fields.py::test_pc_form_and_h5_leave_only_ciphertext_in_the_database",)),
    Mutation("sensitive runtime field searched without its blind index", "platform/lowcode/sensitive.py",
             '    return {f"{path}__{INDEX_KEY}": blind_index(fieldtype, value)}',
             '    return {f"{path}__{INDEX_KEY}": index_text(value)}',
             ("tests/test_sensitive_fields.py::test_exact_value_finds_the_case_and_a_part_does_not",)),
    # --- workflow guards ---------------------------------------------------------------------------------
    Mutation("workflow: case status compare-and-set removed", "platform/cases/actions.py",
             "if not Case.objects.filter(pk=case.pk, status=source).update(",
             "if not Case.objects.filter(pk=case.pk).update(",
             ("tests/test_concurrency_guards.py",)),
    Mutation("workflow: review decided more than once", "platform/cases/actions.py",
             'pending = Review.objects.filter(case=case, state=source, status="pending")',
             "pending = Review.objects.filter(case=case, state=source)",
             ("tests/test_concurrency_guards.py",)),
    Mutation("workflow: 'decided only once' refusal removed", "platform/cases/actions.py",
             "            if not updated:\n",
             "            if False:\n",
             ("tests/test_concurrency_guards.py",)),
    Mutation("workflow: a reviewer at the handling level may decide", "platform/cases/actions.py",
             "        return user_level(user) < case.level",
             "        return user_level(user) <= case.level",
             ("tests/test_case_workflow.py",)),
    # --- dispatch award ------------------------------------------------------------------------------------
    Mutation("award: compare-and-set made unconditional", "platform/dispatch/actions.py",
             'if not DispatchOrder.objects.filter(pk=order.pk, state="open").update(',
             "if not DispatchOrder.objects.filter(pk=order.pk).update(",
             ("tests/test_concurrency_guards.py",)),
    Mutation("award: the slower staff is not told who chose", "platform/dispatch/actions.py",
             'AWARDED_BY_OTHER = "该发单已由他人选定，请刷新后查看"',
             'AWARDED_BY_OTHER = "该发单已选定或已撤回，请刷新后查看"',
             ("tests/test_concurrency_guards.py",)),
    # --- Excel import -------------------------------------------------------------------------------------
    Mutation("import: the outer transaction removed", "platform/lowcode/excel.py",
             "        with transaction.atomic():\n            result = _run(resource, dataset, dry_run=False)",
             "        if True:\n            result = _run(resource, dataset, dry_run=False)",
             ("tests/test_excel.py::test_failure_while_saving_rolls_back_the_whole_import",)),
    # --- duplicate-case thresholds ------------------------------------------------------------------------
    Mutation("dedup: similar_threshold ignored (hard-coded)", "extensions/dedup/score.py",
             "    if similar >= conf.similar_threshold:",
             "    if similar >= 0.55:",
             ("tests/test_dedup_decision.py", "tests/test_dedup_settings.py")),
    Mutation("dedup: same_threshold used for similar", "extensions/dedup/score.py",
             "    if similar >= conf.similar_threshold:",
             "    if similar >= conf.same_threshold:",
             ("tests/test_dedup_decision.py",)),
    Mutation("dedup: same_threshold ignored (hard-coded)", "extensions/dedup/score.py",
             "    if same >= conf.same_threshold:",
             "    if same >= 0.55:",
             ("tests/test_dedup_decision.py",)),
    # --- added in the session of 2026-12-07 evening ------------------------------------------------------
    Mutation("assessment: a street user's ranking rows unscoped", "platform/assessment/access.py",
             "        return rows.filter(region_path__startswith=prefix)",
             "        return rows",
             ("tests/test_assessment.py::test_ranking_pages_are_ranked_paged_and_scoped_in_the_database",)),
    Mutation("assessment: an open period's re-scored rows not written back", "platform/assessment/compute.py",
             '            SnapshotRow.objects.bulk_update(rows, ["values", "manual", "score", "rank"], batch_size=500)',
             "            pass",
             ("tests/test_assessment.py::test_admin_adds_an_indicator_and_changes_a_weight_and_the_open_ranking_follows",)),
    Mutation("sso: a 政钉 session skips the factor whatever the policy", "platform/accounts/policy.py",
             "    return bool(request.session.get(SSO_FACTOR_KEY)) and current().zzd_counts_as_factor",
             "    return bool(request.session.get(SSO_FACTOR_KEY))",
             ("tests/test_sso.py::test_a_zzd_login_counts_as_the_second_factor_only_while_the_policy_says_so",)),
    Mutation("analysis: cached figures outlive a rollup refresh", "platform/analysis/rollup.py",
             "    datacache.bump()  # figures cached from the rollups are recounted",
             "    pass",
             ("tests/test_analysis.py::test_repeat_parties_count_is_cached_until_the_rollups_change",)),
]


def pytest_command(tests) -> list[str]:
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", *tests]


def run_tests(tests) -> tuple[int, str, float]:
    """(pytest's exit code, the first failing test, seconds). No bytecode written: a mutated
    module never leaves a stale .pyc behind."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.monotonic()
    done = subprocess.run(pytest_command(tests), cwd=ROOT, env=env, capture_output=True, text=True)
    first = next((line.split(" - ")[0] for line in done.stdout.splitlines()
                  if line.startswith(("FAILED tests", "ERROR tests"))), "")
    return done.returncode, first, time.monotonic() - start


def problems(m: Mutation) -> list[str]:
    """Why the mutation cannot be applied as listed (empty: it can)."""
    path = ROOT / m.path
    if not path.exists():
        return [f"{m.path} 不存在"]
    out = []
    found = path.read_text(encoding="utf-8").count(m.original)
    if found != m.count:
        out.append(f"{m.path}：原文片段出现 {found} 次（应为 {m.count} 次）：{m.original.strip()[:60]}")
    for t in m.tests:
        if not (ROOT / t.split("::")[0]).exists():
            out.append(f"测试文件 {t} 不存在")
    return out


def dirty(path: str) -> bool:
    """Uncommitted changes (someone's work in progress) in the file: never mutate it."""
    done = subprocess.run(["git", "status", "--porcelain", "--", path], cwd=ROOT, capture_output=True, text=True)
    return done.returncode != 0 or bool(done.stdout.strip())


def mutate_and_run(m: Mutation) -> tuple[int, str, float]:
    """Apply, run, restore (content and modification time). run_tests' answer."""
    path = ROOT / m.path
    original_bytes = path.read_bytes()
    stat = path.stat()
    text = original_bytes.decode("utf-8")
    try:
        path.write_text(text.replace(m.original, m.replacement), encoding="utf-8")
        return run_tests(m.tests)
    finally:
        path.write_bytes(original_bytes)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="变异测试：逐条破坏关键代码行，检查相应测试会失败")
    parser.add_argument("-k", default="", help="只运行名称含此文字的变异")
    parser.add_argument("--check", action="store_true", help="只检查每个原文片段仍能找到")
    parser.add_argument("--no-baseline", action="store_true", help="跳过未变异时的测试运行")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if args.k in m.name]
    broken = {m.name: problems(m) for m in chosen if problems(m)}
    if args.check:
        for name, why in broken.items():
            print(f"{name}: " + "；".join(why))
        return 1 if broken else 0

    # SIGTERM (a killed make) must restore the file like Ctrl+C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rows, failed = [], False
    if not args.no_baseline:
        for tests in dict.fromkeys(m.tests for m in chosen if m.name not in broken):
            code, first, seconds = run_tests(tests)
            print(f"未变异：{' '.join(tests)} {'通过' if code == 0 else '失败 ' + first}（{seconds:.0f} 秒）", flush=True)
            if code != 0:
                print("未变异的代码上测试就不通过：先修好，变异结果才有意义。")
                return 1
    for m in chosen:
        if m.name in broken:
            rows.append((m.name, "NOT FOUND", 0.0, "；".join(broken[m.name])))
            failed = True
            continue
        if dirty(m.path):
            rows.append((m.name, "SKIPPED", 0.0, f"{m.path} 有未提交的修改"))
            failed = True
            continue
        code, first, seconds = mutate_and_run(m)
        # 1: tests ran and failed (killed); 0: all passed (survived); other: pytest could not run
        # the tests (a snippet that breaks the import is no proof) — both fail the run
        result = {0: "SURVIVED", 1: "killed"}.get(code, f"ERROR {code}")
        rows.append((m.name, result, seconds, first or " ".join(m.tests)))
        failed |= result != "killed"
        print(f"{result:9} {seconds:6.1f}s  {m.name}  {first}", flush=True)

    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"\n| {'mutation':{width}} | result    | seconds | killed by (first failing test) |")
    print(f"|{'-' * (width + 2)}|-----------|---------|--------------------------------|")
    for name, result, seconds, note in rows:
        print(f"| {name:{width}} | {result:9} | {seconds:7.1f} | {note} |")
    killed = sum(r[1] == "killed" for r in rows)
    print(f"\n{killed}/{len(rows)} killed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
