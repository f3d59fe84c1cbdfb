"""``make mutate`` is too slow for CI, but its list must not rot: every snippet it breaks is still
in its file (as often as listed), every test it runs exists, and applying a mutation changes the
file. A refactoring that moves a guarded line makes this fail and says which entry to update."""
from __future__ import annotations

import pytest

from tests import mutate


@pytest.mark.parametrize("m", mutate.MUTATIONS, ids=lambda m: m.name)
def test_every_mutation_still_applies(m):
    assert not mutate.problems(m), "tests/mutate.py 的变异清单已过时：" + "；".join(mutate.problems(m))
    assert m.original != m.replacement


def test_the_list_covers_the_critical_files():
    files = {m.path for m in mutate.MUTATIONS}
    assert {"platform/accounts/scope.py", "platform/dispatch/scope.py", "platform/secure/masking.py",
            "platform/secure/crypto.py", "platform/cases/actions.py", "platform/dispatch/actions.py",
            "platform/lowcode/excel.py", "extensions/dedup/score.py"} <= files
