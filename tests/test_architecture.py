"""The architecture contracts in ``.importlinter`` hold for the code, and each one bites.

The same file drives ``make lint``; here a broken contract fails ``pytest`` too. Each contract is
also checked against the real import graph plus one forbidden import (import-linter's own API on
a copy of the graph), so a contract that was weakened until it checks nothing fails this test."""
from __future__ import annotations

import copy
from pathlib import Path

import grimp
import pytest
from importlinter import api
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract

CONFIG = Path(__file__).resolve().parent.parent / ".importlinter"
CONTRACT_TYPES = {"forbidden": ForbiddenContract, "independence": IndependenceContract, "layers": LayersContract}

#: One import per contract that the contract forbids: (contract id, importer, imported).
VIOLATIONS = [
    ("engine-is-domain-free", "lowcode.forms", "cases.models"),
    ("engine-is-domain-free", "lowcode.registry", "extensions.dedup.api"),
    ("domain-is-extension-free", "cases.admin", "extensions.escalation.caselist"),
    ("domain-is-extension-free", "h5.views", "extensions.dedup.api"),
    ("secure-is-infrastructure", "secure.admin", "lowcode.excel"),
    ("secure-is-infrastructure", "secure.crypto", "accounts.models"),
    ("extensions-independent", "extensions.escalation.facts", "extensions.dedup.models"),
    ("extensions-independent", "extensions.dedup.api", "extensions.escalation.models"),
    ("layers", "orgs.models", "cases.models"),
    ("layers", "cases.models", "clues.models"),
    ("layers", "h5.views", "partners.views_m"),
    ("layers", "ops.migration_operations", "lowcode.models"),
]


@pytest.fixture(scope="module")
def options() -> dict:
    return api.read_configuration(str(CONFIG))


@pytest.fixture(scope="module")
def graph(options):
    roots = options["session_options"]["root_packages"]
    return grimp.build_graph(*roots, include_external_packages=False, cache_dir=None)


def contract(options, contract_id: str):
    for raw in options["contracts_options"]:
        if raw["id"] == contract_id:
            return CONTRACT_TYPES[raw["type"]](name=raw["name"], session_options=options["session_options"],
                                               contract_options=raw)
    raise AssertionError(f"no contract {contract_id!r} in .importlinter")


def contract_ids(options) -> list[str]:
    return [raw["id"] for raw in options["contracts_options"]]


def test_every_contract_is_kept_by_the_code(options, graph):
    broken = [cid for cid in contract_ids(options)
              if not contract(options, cid).check(copy.deepcopy(graph), verbose=False).kept]
    assert not broken, f"import contracts broken: {broken} — run `make lint` for the offending imports"


@pytest.mark.parametrize("contract_id, importer, imported", VIOLATIONS)
def test_a_forbidden_import_breaks_its_contract(options, graph, contract_id, importer, imported):
    assert importer in graph.modules and imported in graph.modules, "the example modules moved"
    g = copy.deepcopy(graph)
    g.add_import(importer=importer, imported=imported)
    assert not contract(options, contract_id).check(g, verbose=False).kept


def test_escalation_may_import_the_dedup_read_api(options, graph):
    g = copy.deepcopy(graph)
    g.add_import(importer="extensions.escalation.evaluate", imported="extensions.dedup.api")
    assert contract(options, "extensions-independent").check(g, verbose=False).kept


def test_every_contract_has_a_violation_that_proves_it_bites(options):
    assert set(contract_ids(options)) == {cid for cid, _, _ in VIOLATIONS}


def test_every_app_has_its_place_in_the_layers(options):
    """A new app under platform/ must be placed in the contracts, not silently left out of them."""
    platform = Path(__file__).resolve().parent.parent / "platform"
    apps = {p.parent.name for p in platform.glob("*/__init__.py")} | {"extensions"}
    layers = next(raw for raw in options["contracts_options"] if raw["id"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    assert apps <= set(options["session_options"]["root_packages"])
    assert apps <= placed, f"not in the layers contract: {sorted(apps - placed)}"
