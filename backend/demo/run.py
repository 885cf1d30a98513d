"""``run_demo``: compose the service as ``chainarb serve`` does (plus anchoring at once and a
local TSA), serve it, and play the story's acts in order; the last stdout line is the result.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from typing import TYPE_CHECKING, TextIO, TypedDict

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console

from backend.demo.chain import chain_label, check_real_time, deployed, wall_clock
from backend.demo.clients import Client
from backend.demo.common import DemoError, short
from backend.demo.printing import Printer
from backend.demo.scenarios import DEFAULT_SCENARIO, scenario_named
from backend.demo.serving import free_port, serve
from backend.demo.world import Cast, ResultLine, Scenario, Story, World
from backend.local_tsa import LocalTsa, LocalTsaError
from backend.settings import Settings

if TYPE_CHECKING:  # the service is composed on demand
    from fastapi import FastAPI

    from backend.chain import EscrowContract, TokenContract

__all__ = ["PEOPLE", "run_demo"]

PEOPLE = {
    "buyer": ("Lena Fischer (buyer, Hamburg, DE)", "买方 · 德国汉堡"),
    "seller": ("Shenzhen Brightway Lighting (seller, CN)", "卖方 · 中国深圳"),
    "admin": ("case officer (institution)", "机构案件秘书"),
    "mediator": ("mediator M. Rossi", "调解员"),
    "arbitrator": ("arbitrator Dr. Chen Wei", "仲裁员"),
    "court": ("Hangzhou Internet Court", "杭州互联网法院"),
}

def run_demo(settings: Settings, *, scenario: str = DEFAULT_SCENARIO,
             console: Console | None = None, out: TextIO | None = None) -> ResultLine:
    """Run one scenario (``main``: the whole loop); print each step; print the result as the
    last line; return it. An unknown scenario is a ``KeyError`` naming the choices."""
    from backend.gateway import contracts_deployer, ensure_deployment, open_chain

    story_of = scenario_named(scenario)
    started = time.monotonic()
    stdout = out or sys.stdout
    console = console or Console(file=stdout, highlight=False, soft_wrap=True)
    printer = Printer(console)
    printer.rule(*story_of.title)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tsa = LocalTsa(settings.data_dir / "demo-tsa")
    try:
        tsa_url = tsa.start()
    except LocalTsaError as exc:
        raise DemoError(f"the local time-stamping authority: {exc}") from exc
    settings = settings.model_copy(update={
        "anchor_interval_seconds": 0.0, "tsa_urls": [tsa_url], "tsa_cert_files": [tsa.chain_pem]})
    handle = open_chain(settings)
    try:
        # The demo deploys its contracts on any node it is pointed at (a dev node such as
        # anvil), not only on the embedded chain; the same ones `chainarb serve` then uses.
        deployment = ensure_deployment(
            handle, settings, contracts_deployer(settings.institution_private_key()),
            allow_deploy=True)
        check_real_time(handle, deployment)
        world = World(settings=settings, handle=handle, deployment=deployment,
                      clock=wall_clock(handle), printer=printer, tsa_root=tsa.dir / "ca.pem")
        result = play(world, tsa, story_of)
    finally:
        handle.close()
        tsa.stop()
    result["seconds"] = round(time.monotonic() - started, 1)
    console.print(f"[bold green]Done in {result['seconds']} s. / 完成。[/]")
    stdout.write(json.dumps(result, sort_keys=True) + "\n")
    stdout.flush()
    return result


def play(world: World, tsa: LocalTsa, scenario: Scenario) -> ResultLine:
    """Compose and serve the service, then play the scenario's acts against it; returns its
    result."""
    # Fresh people each run (so a fresh order and case whatever the data dir holds).
    keys = {n: Account.from_key(secrets.token_bytes(32)) for n in PEOPLE}
    port = free_port()
    app = compose_service(world, port, keys["admin"].address)
    contracts = show_contracts(world)
    with serve(app, port) as running, httpx.Client(base_url=running.base_url,
                                                         timeout=60) as http:
        world.printer.step("setup", "institution 机构",
                           f"service on {running.base_url} (OpenAPI {running.base_url}/docs)"
                           f"; time-stamping authority {tsa.url}")
        story = Story(cast=sign_in_everyone(world, http, keys), http=http, **contracts)
        for act in scenario.acts:
            act(world, story)
        return scenario.result(world, story)


def compose_service(world: World, port: int, demo_admin: str) -> FastAPI:
    """The service on the real clock, as ``chainarb serve`` composes it (its rules' objection
    window follows the escrow's), plus the demo's own admin and anchoring at once."""
    from backend.api.app import create_app
    from backend.worker.runner import build_worker

    settings, dep = world.settings, world.deployment
    # The demo's own admin joins the configured ones (validated like the environment's).
    admins = ",".join(a for a in (settings.institution_admins, demo_admin) if a)
    # The certificate's URL is the configured public one; without it, the address that
    # `chainarb serve` on this data dir answers (not the demo's throw-away port).
    settings = Settings.model_validate({**settings.model_dump(), "port": port,
                                        "public_url": settings.base_url,
                                        "institution_admins": admins})
    # A carrier that signs its webhooks (its own Ed25519 key): the institution enters its
    # configuration as it would a real carrier's (CHAINARB_WEBHOOK_SENDERS).
    from backend.performance.simulator import CarrierSimulator

    world.carrier = CarrierSimulator.new("demo-express", "ed25519")
    settings = settings.model_copy(update={"webhook_senders": [
        *settings.webhook_senders,
        world.carrier.config(name="Demo Express (simulated carrier)",
                             name_zh="演示快递（模拟承运人）")]})
    app = create_app(settings, background=False)
    # The demo's composition: anchoring (with RFC 3161 stamps) at once after every step.
    anchor, _escrow, _token = deployed(dep)
    app.state.ctx.anchoring = build_worker(settings, app.state.ctx.sessions, world.handle,
                                           anchor)
    world.app = app
    return app


class Contracts(TypedDict):
    """The contracts as the parties' wallets see them, and the institution's account (the
    ``Story`` fields of the same names)."""

    escrow: EscrowContract
    token: TokenContract
    symbol: str
    institution: LocalAccount


def show_contracts(world: World) -> Contracts:
    """The contracts as the parties' wallets see them (``Story`` fields); prints where
    they are."""
    from backend.chain import EscrowContract, TokenContract, Transactor

    dep = world.deployment
    _anchor, escrow, token = deployed(dep)
    txr = Transactor(world.handle.w3)
    usdc = TokenContract(txr, token)
    symbol = usdc.symbol()
    world.printer.step("setup", "institution 机构",
                       f"contracts on {chain_label(world.handle)}: ArbitrationEscrow "
                       f"{dep.escrow}, EvidenceAnchor {dep.anchor}, stablecoin {symbol} "
                       f"({usdc.decimals()} decimals) {dep.token}; data dir "
                       f"{world.settings.data_dir}")
    return {"escrow": EscrowContract(txr, escrow), "token": usdc, "symbol": symbol,
            "institution": Account.from_key(world.settings.institution_private_key())}


def sign_in_everyone(world: World, http: httpx.Client,
                     keys: dict[str, LocalAccount]) -> Cast:
    """Each person signs in with their wallet (EIP-4361 message, ``personal_sign``)."""
    cast = Cast(**{n: Client(PEOPLE[n][0], PEOPLE[n][1], k, http, world.clock,
                             receipts=world.settings.data_dir / "receipts" / k.address)
                   for n, k in keys.items()})
    world.admin = cast.admin
    for cl in cast.everyone():
        cl.sign_in()
    world.printer.step("setup", "everyone 各方",
                       "each signs in with the wallet (EIP-4361 message, personal_sign); "
                       + ", ".join(f"{cl.label.split(' (')[0]} {short(cl.address, 6)}"
                                   for cl in cast.everyone()))
    return cast
