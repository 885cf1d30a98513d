"""Chain fixtures shared by every test package.

- ``tester_w3``: a fresh in-process py-evm chain (eth-tester) per test.
- ``anvil_node``: one anvil process per test session on 127.0.0.1 (free port, cancun),
  stopped at the end; ``anvil_w3``: a Web3 on it with the test's changes rolled back
  afterwards (evm_snapshot before, evm_revert after), so tests stay independent.
- ``dev_keys``: ten deterministic funded-able accounts (``backend.chain.devchain.fund``).

The write discipline (docs/persistence.md) is strict in tests: every engine raises
``UnguardedWrite`` for a write of the product's code outside ``write_scope`` (the variable
is inherited by the service and worker processes tests start), and ``_no_unguarded_writes``
fails a test during which one happened even if something swallowed the exception.

The documented error codes are test data: ``error_code_recorder`` (hooks imported below)
records the code of every error answer tests receive and, after a whole-suite run, fails
when a code of the docs/api.md "Errors" table was never produced or a produced one is not
in it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import settings
from web3 import Web3

from backend.chain.devchain import AnvilNode, dev_accounts, in_process_web3, revert_to, snapshot
from backend.db.engine import WRITE_GUARD_ENV, write_guard_violations
from tests.error_code_recorder import (  # noqa: F401  (pytest hooks of this conftest)
    pytest_collection_finish,
    pytest_configure,
    pytest_deselected,
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_testnodedown,
)
from tests.support import route_contexts
from tests.support.cli_fork import CliForks
from tests.support.snapshots import StageSnapshots

os.environ.setdefault(WRITE_GUARD_ENV, "raise")
# Each route's FastAPI state built once per test process, not once per app (a world per
# test): ~0.4 s of CPU an app (tests/support/route_contexts.py, tests/test_route_contexts.py)
route_contexts.install()

# The slow set: ``make test`` runs ``-m "not slow"``, ``make test-slow`` runs ``-m slow`` (in
# two runs, ``SERIAL_MODULES`` below) and CI (.ci/run) runs both. A module is here when it
# costs minutes for checks the fast set already makes on a cheaper path, or drives an
# outside tool (a browser, a fuzzer, hardhat, slither, killed processes); the fast set
# keeps the pages' server-side tests and the English CLI; some tests are slow by their own
# ``@pytest.mark.slow`` (the benchmarks' runs; the recompile of a committed test contract,
# tests/evidence/test_evidence_check_artifact.py, whose fast tests check what it names). The
# PostgreSQL runs of the tests parametrised over both databases are slow too: the fast set
# runs each on SQLite, and the database layer's own tests (tests/backend/db) run on both.
# Property tests fail on what they find, never on how long an example took: a loaded machine
# (CI's two cores shared with chromium) must not turn a passing property into a failure.
settings.register_profile("chainarb", deadline=None)
settings.load_profile("chainarb")

SLOW_MODULES = {
    "tests/faults/": "kills and restarts the service, the chain node and the database",
    "tests/security/test_schemathesis": "fuzzes every route from the OpenAPI document (a "
        "module per role: test_schemathesis.py, test_schemathesis_admin.py)",
    "tests/backend/web/test_web_browser.py": "drives chromium through every page",
    "tests/backend/web/test_web_actions.py": "the parties' steps through the page in chromium",
    "tests/backend/web/test_web_receipts.py": "the page keeps and downloads receipts, chromium",
    "tests/backend/web/test_web_neutrals.py": "the neutrals' steps through the page in chromium",
    "tests/backend/web/test_web_return.py": "the return stage's steps through the page in "
                                            "chromium",
    "tests/backend/web/test_web_panel.py": "the panel's steps through the page in chromium",
    "tests/backend/web/test_web_court.py":
        "a court's package, checks and decision through its pages in chromium, on a real EVM",
    "tests/backend/web/test_web_party.py":
        "a buyer's orders, claim, wallet transaction and evidence through the pages in chromium",
    "tests/backend/web/test_web_party_chain.py":
        "the claim's freeze sent from the page to anvil by the buyer's wallet (an extension, "
        "then the built-in wallet through the relay), in chromium",
    "tests/backend/web/test_web_desk_browser.py":
        "the institution's page and the neutrals' desk in chromium",
    "tests/backend/web/test_web_people_browser.py":
        "a profile signed through the page, names and words read in chromium",
    "tests/backend/web/test_web_pool_browser.py":
        "the assessor pool's steps signed through its page in chromium, both languages",
    "tests/backend/web/test_web_fast_track_browser.py":
        "the fast track proposed, read, objected and paid out through the pages in chromium",
    "tests/backend/web/test_web_wallet.py": "the built-in wallet made, restored, signing",
    "tests/backend/web/test_web_apidocs.py": "/docs and /redoc in chromium, network blocked",
    "tests/backend/web/test_web_screens.py":
        "a case in an 18-decimal token and the prompt's names, in chromium, both languages",
    "tests/portal/": "people carry cases through the portal's pages in chromium",
    "tests/evidence/test_cli_lang.py":
        "runs every command and error path again in Chinese, one process each",
    "tests/contracts/test_hardhat.py": "compiles and tests the contracts under hardhat",
    "tests/contracts/test_slither.py": "runs the slither static analyser",
    "tests/contracts/test_stateful.py": "random call sequences against the EVM",
    "tests/backend/procedure/test_procedure_stateful.py":
        "random command sequences; the tables themselves are swept in the fast set",
    "tests/backend/worker/test_anchoring_processes.py": "worker processes killed mid-batch",
    "tests/backend/log/test_log_crash.py": "appending processes killed (SIGKILL) at each point",
    "tests/backend/api/test_serve.py": "starts `chainarb serve` processes",
    "tests/backend/package/test_package_two_tsas.py":
        "a whole case through the service with two TSAs, one down (about 12 s)",
    "tests/judicial/test_judicial_block_route.py":
        "two anvil nodes, a case run on anvil and seven `chainarb verify` processes",
    "tests/backend/package/test_package_receipts.py":
        "a whole case through the service, its package checked against the parties' receipts "
        "and the monitor following the log (about 20 s)",
    "tests/backend/test_institution_rotate_cli.py":
        "`chainarb institution rotate-key` processes, each starting the embedded chain",
    "tests/backend/api/test_performance_load":
        "the carrier simulator's webhooks at 100 events/s for a minute against a served "
        "service, a module per database (test_performance_load.py, _postgres.py)",
}


# The part of the slow set that runs alone: ``make test-slow`` runs the rest of it in
# pytest-xdist processes, a file per process at a time (``-m "slow and not serial"``), then
# these in one process (``-m "slow and serial"``). They kill real processes at chosen points
# and wait for what comes back within bounds: they must not share the cores with another
# test file.
SERIAL_MODULES = {
    "tests/faults/": "kills the service, the chain node and a database under traffic",
    "tests/backend/log/test_log_crash.py": "SIGKILLs appending processes at each point",
    "tests/backend/worker/test_anchoring_processes.py":
        "worker processes racing on PostgreSQL, killed mid-batch and restarted",
}
assert all(m.startswith(tuple(SLOW_MODULES)) for m in SERIAL_MODULES)

# The longest modules, longest first (measured: the slow set's from ``make test-slow``
# durations in README, then the fast set's): collected first, so that with
# ``--no-loadscope-reorder`` (the Makefile) the xdist processes start on them and the short
# files fill in at the end, instead of a long file starting last (xdist would otherwise
# order files by their number of tests).
HEAVY_FIRST = [
    "tests/portal/test_portal_case.py",
    "tests/portal/test_portal_case_zh.py",
    "tests/portal/test_portal_case_extension.py",
    "tests/security/test_schemathesis.py",
    "tests/security/test_schemathesis_admin.py",
    "tests/backend/demo/test_demo.py",
    "tests/backend/demo/test_demo_jury.py",
    "tests/backend/demo/test_demo_return.py",
    "tests/backend/demo/test_demo_fast_track.py",
    "tests/backend/test_institution_rotate_cli.py",
    "tests/backend/api/test_serve.py",
    "tests/backend/procedure/test_procedure_stateful.py",
    # the fast set's 40 longest, longest first (junit sums of a whole fast set, 2026-12-07,
    # after the worlds' one-trip client and the shared fork server): with the default order
    # xdist hands out the files with the most tests first, so a long file of few tests (the
    # package states: 12 tests, a fifth of a worker's time) started last; sorting them all
    # leaves short files for the end, where a worker waits for the other
    "tests/backend/package/test_package_states.py",
    "tests/backend/package/test_package.py",
    "tests/security/test_input_bounds.py",
    "tests/backend/test_settings_effects.py",
    "tests/backend/package/test_package_rotation.py",
    "tests/backend/api/test_access.py",
    "tests/backend/api/test_prepare.py",
    "tests/judicial/test_judicial_identity.py",
    "tests/contracts/test_escrow_disputes.py",
    "tests/judicial/test_judicial_package.py",
    "tests/contracts/test_escrow_return_settlement.py",
    "tests/backend/gateway/test_embedded.py",
    "tests/backend/api/test_refusals_each.py",
    "tests/backend/db/test_fast.py",
    "tests/security/test_active_content.py",
    "tests/contracts/test_escrow_jury.py",
    "tests/backend/test_cli_service_extra.py",
    "tests/backend/db/test_pg_round_trips.py",
    "tests/evidence/test_verify.py",
    "tests/contracts/test_escrow_return.py",
    "tests/backend/api/test_step_shortcut.py",
    "tests/evidence/test_cli.py",
    "tests/backend/db/test_blocks.py",
    "tests/judicial/test_judicial_cli_errors.py",
    "tests/judicial/test_judicial_log.py",
    "tests/backend/api/test_performance.py",
    "tests/contracts/test_metamask.py",
    "tests/security/test_trust_model.py",
    "tests/backend/evidence/test_submit_access.py",
    "tests/judicial/test_judicial_mutations.py",
    "tests/security/test_hostile_zips.py",
    "tests/contracts/test_artifacts.py",
    "tests/contracts/test_escrow_orders.py",
    "tests/backend/gateway/test_escrow_port_behaviour.py",
    "tests/judicial/test_judicial_cli.py",
    "tests/judicial/test_judicial_clocks.py",
    "tests/backend/web/test_web_advance.py",
    "tests/test_cli_startup.py",
    "tests/backend/db/test_migrations_data.py",
    "tests/backend/test_performance_config.py",
]


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        postgres_run = "postgres" in item.keywords and "backend/db/" not in item.nodeid
        if postgres_run or item.nodeid.startswith(tuple(SLOW_MODULES)):
            item.add_marker(pytest.mark.slow)
        if item.nodeid.startswith(tuple(SERIAL_MODULES)):
            item.add_marker(pytest.mark.serial)
    rank = {m: i for i, m in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda i: rank.get(i.nodeid.split("::", 1)[0], len(rank)))  # stable


@pytest.fixture(autouse=True)
def _no_unguarded_writes() -> Iterator[None]:
    before = len(write_guard_violations())
    yield
    new = write_guard_violations()[before:]
    assert not new, f"writes outside write_scope during this test: {new}"


@pytest.fixture
def tester_w3() -> Web3:
    return in_process_web3()


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    node = AnvilNode().start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def anvil_w3(anvil_node: AnvilNode) -> Iterator[Web3]:
    w3 = anvil_node.web3()
    snap = snapshot(w3)
    try:
        yield w3
    finally:
        revert_to(w3, snap)


@pytest.fixture(scope="session")
def stage_snapshots(tmp_path_factory: pytest.TempPathFactory) -> StageSnapshots:
    """The API world's stages, each built once per session (tests/support/snapshots.py)."""
    return StageSnapshots(tmp_path_factory.mktemp("stages"))


@pytest.fixture(scope="session")
def cli_forks() -> Iterator[CliForks]:
    """The forking ``chainarb`` (tests/support/cli_fork.py) of this test process, shared by
    the modules that run the command many times: a server costs ~1.2-1.8 s of CPU to start
    (the interpreter, the command, web3, the service's block store), and each module started
    its own. The server runs nothing itself, so its state is the same for every run; each
    run gives its own environment (``CliForks.run``'s ``env``), as before."""
    with CliForks(env=dict(os.environ), preload=("web3", "backend.db.blocks")) as forks:
        yield forks


@pytest.fixture(scope="session")
def dev_keys() -> list[LocalAccount]:
    return dev_accounts(10)
