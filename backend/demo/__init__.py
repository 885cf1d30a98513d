"""The main job: one cross-border case through the running service, as real clients drive it.

``run_demo(settings)`` (what ``chainarb demo`` and ``make demo`` run) composes the service
on the embedded default (SQLite + local IPFS blockstore + the embedded chain, all in the
data dir) or on what the settings name instead (``DATABASE_URL``,
``CHAINARB_CHAIN_RPC_URL`` of a dev node, ``CHAINARB_IPFS_API_URL``), serves it with
uvicorn on a free 127.0.0.1 port in a background thread, and then acts only as clients do:
each party, neutral, the institution's staff and the court holds its own key, signs in with
``personal_sign``, and signs every step as EIP-712 typed data (eth-account, the records of
``evidence.records``); parties send their own on-chain transactions (pay into escrow,
deposit the guarantee, raise the dispute) from their own wallets. The server never sees a
private key.

The demo moves no clock: the service, the chain and the time-stamping authority all run on
the real time, so ``chainarb serve`` on the same data dir afterwards answers every demo case
(and the RFC 3161 tokens are dated when the blocks they stamp were made). The objection
window is short instead: the contracts of a development chain are deployed with
``DEV_CHAIN_TIMEOUTS`` (an objection window of ``DEV_OBJECTION_SECONDS``; docs/chain.md),
the service's rules follow the escrow's window (``create_app``), and the demo waits it
out in real time.

What the demo adds to the service, only in the demo's own composition (never in
``chainarb serve``): **anchoring at once.** The anchoring worker runs after every step
(``POST /admin/tick``, interval 0), with RFC 3161 stamping by a local time-stamping
authority (``openssl ts`` in ``<data_dir>/demo-tsa``), so every step is anchored and
stamped before the next.

A fresh run works whatever earlier runs left in the data dir: the contracts are deployed
once (``deployment.json``, the same ones ``chainarb serve`` uses), and each run uses new
keys, a new order and so a new case. A data dir from a version of the demo that moved the
clock (an escrow with a window of days, blocks dated ahead) is refused with a clear
message. The last line of stdout is one JSON object (keys in README "The main job").

The package, one module per job:

- ``run``: ``run_demo`` composes and serves the service and plays one scenario's acts in
  order; ``scenarios``: the registry behind ``chainarb demo --scenario NAME`` (each scenario a
  ``world.Scenario``: title, acts, result line); ``scenario_main``: the ``main`` story
  (``ACTS``; ``result_line`` is its last stdout line); other scenarios in
  ``scenario_<name>.py``.
- ``acts``: the story up to the execution of the award, one small function per act
  (guarantee, order, filing, negotiation, mediation, arbitration agreement, appointment,
  evidence, answer, award, objection window, enforcement); ``court``: access, package,
  verification, confirmation.
- ``world``: what the acts share (``World``: the service and its anchoring; ``Cast``;
  ``Story``: what one act hands to the next).
- ``clients``: a person at a wallet (``Client``) and ``upload_evidence``; ``serving``:
  uvicorn in a thread (``serve``, ``free_port``); ``chain``: the clock, gas, balances;
  ``files``: the generated evidence;
  ``printing``: the step lines; ``common``: ``DemoError``, units, amounts. The local RFC 3161
  authority is ``backend.local_tsa`` (the tests stamp with the same one).

The page tests (tests/backend/web/web_world.py) reuse ``Client``, ``serve``, ``free_port``,
``upload_evidence`` and ``make_photo_jpeg``.
"""

from backend.demo.clients import Client, document, expect_ok, upload_evidence
from backend.demo.common import DemoError, fmt_amount
from backend.demo.files import make_chat_log, make_invoice_pdf, make_photo_jpeg
from backend.demo.run import run_demo
from backend.demo.serving import Running, free_port, serve
from backend.local_tsa import LocalTsa

__all__ = ["Client", "DemoError", "LocalTsa", "Running", "document", "expect_ok",
           "fmt_amount", "free_port", "make_chat_log", "make_invoice_pdf", "make_photo_jpeg",
           "run_demo", "serve", "upload_evidence"]
