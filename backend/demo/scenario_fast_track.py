"""The ``fast-track`` scenario (issue 14 item 6, docs/jury.md "Fast track"): a small claim
whose mediator proposes the rule-based pre-evaluation as its resolution; nobody objects
within the short window, so it binds and the escrow pays it out.

The story: the seller deposits a guarantee, the buyer pays 480 USDC into escrow, receives
cracked panels and files a claim (not as described, a partial refund of 240) with a photo;
both sign the arbitration agreement (the fast track binds only under a binding agreement);
the buyer asks for a mediator; the mediator fetches the pre-evaluation of the order's
performance evidence (``GET /cases/{id}/fast-track``: its reasons, by rule, in English
and Chinese) and signs it as ``fasttrack.proposed``; the service submits it to the escrow
as a pending decision signed by the institution; the window (capped by this development
escrow's objection window: seconds, waited out in real time) passes; the escrow executes
it (``executeAward``) and the service records the payout (``enforcement.recorded``).

The demo's composition opens the fast track for orders up to 500 USDC (the service's
``CHAINARB_FAST_TRACK_MAX_AMOUNT`` would, in ``chainarb serve``), before the order commits
to the rules, so the rules the order names are the rules the case runs under.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from backend.demo import acts
from backend.demo.chain import wait_until
from backend.demo.clients import document, upload_evidence
from backend.demo.common import DECIMALS, UNIT, DemoError, decimal_units, fmt_amount
from backend.demo.files import make_photo_jpeg
from backend.demo.world import Act, ResultLine, Scenario, Story, World

__all__ = ["FAST_TRACK", "FAST_TRACK_MAX"]

FAST_TRACK_MAX = 500 * UNIT  # small claims: at most this order amount


def open_fast_track(world: World, story: Story) -> None:
    """The demo's composition: the service's rules open the fast track for small claims."""
    service = world.ctx.service
    rules = replace(service.config.rules, fast_track_max_amount=FAST_TRACK_MAX)
    service.config = replace(service.config, rules=rules)
    window = int(rules.period("fast_track_days").total_seconds())
    world.printer.step("setup", "institution 机构", "rules: the fast track for orders up to "
                       f"{fmt_amount(FAST_TRACK_MAX, story.symbol)}, objection window "
                       f"{rules.fast_track_days} days, capped by this escrow's "
                       f"{window}-second window (快速程序)")


def file_with_photo(world: World, story: Story) -> None:
    """The buyer files the claim (not as described, partial refund) and shows a photo."""
    acts.file_claim(world, story)
    buyer = story.cast.buyer
    content = make_photo_jpeg()
    res = upload_evidence(buyer, story.case_id, "photo", "cracked-panel.jpg", "image/jpeg",
                          content)
    story.evidence_cids.append(res["contentCid"])
    world.shown(res.get("stage", "filed"), buyer, "uploads a photo of a cracked panel "
                "(照片): encrypted, stored in IPFS, salted commitment signed", res,
                cid=res["contentCid"])


def agree_and_ask_for_mediator(world: World, story: Story) -> None:
    """Both sign the arbitration agreement; the buyer asks for a mediator."""
    case_id = story.case_id
    for party in (story.cast.buyer, story.cast.seller):
        res = party.post(f"/cases/{case_id}/arbitration-agreement",
                         party.plain(case_id, "arbitration.agreed"))
        world.shown(res["stage"], party, "signs the arbitration agreement (同意仲裁)", res)
    buyer = story.cast.buyer
    res = buyer.post(f"/cases/{case_id}/facilitation",
                     buyer.plain(case_id, "facilitation.requested"))
    world.shown(res["stage"], buyer, "asks for a mediator (申请调解)", res)


def propose_fast_track(world: World, story: Story) -> None:
    """The mediator proposes the pre-evaluation of the evidence as the resolution; the
    service submits it to the escrow as the institution's pending decision."""
    mediator, case_id = story.cast.mediator, story.case_id
    prop = mediator.get(f"/cases/{case_id}/fast-track")
    report = prop["canonical"].encode()
    res = mediator.post(f"/cases/{case_id}/fast-track", mediator.plain(
        case_id, "fasttrack.proposed", prop["payload"],
        document=document("fast-track-proposal.json", "application/json", report)))
    pay = prop["payload"]
    rules = ", ".join(r["rule"] for r in prop["report"]["reasons"])
    story.award = (int(pay["toBuyer"]), int(pay["toSeller"]), int(pay["compensation"]))
    story.award_record_hash = pay["reportHash"]
    world.shown(res["stage"], mediator, f"proposes the pre-evaluation as the fast-track "
                f"resolution: {prop['recommended']}, refund "
                f"{fmt_amount(story.award[0], story.symbol)} ({rules}); binds unless a party "
                "objects (快速程序处理建议)", res)
    for _ in range(5):
        world.tick()
        view = mediator.get(f"/cases/{case_id}")
        done = [a for a in view["chainActions"] if a["kind"] == "submit_fast_track"
                and a["status"] == "done"]
        if done:
            world.printer.step(view["stage"], "institution 机构", "submitFastTrack: the escrow "
                               "holds the proposal as a pending decision (待定决定)",
                               tx=done[0].get("txHash"))
            return
    raise DemoError(f"the proposal did not reach the escrow: {view['chainActions']}")


def pass_window(world: World, story: Story) -> None:
    """Nobody objects: wait out the window in real time (no clock is moved)."""
    buyer, case_id = story.cast.buyer, story.case_id
    view = buyer.get(f"/cases/{case_id}")
    ends = max(story.escrow.order(story.order_id).deadline,
               int(datetime.fromisoformat(view["deadline"]).timestamp()))
    waited = wait_until(ends + 1)
    world.tick()
    view = buyer.get(f"/cases/{case_id}")
    _note_stages(world, story)
    world.printer.step(view["stage"], "time 时间", "the fast track's objection window passes "
                       f"without an objection (waited {waited:.1f} s in real time; 异议期届满): "
                       "the proposal binds")
    if view["stage"] not in ("fast_track_final", "enforced"):
        raise DemoError(f"after the window the case should be binding, found {view['stage']}")


def _note_stages(world: World, story: Story) -> None:
    """Note the stages the case went through in one tick (the timeline's stage changes)."""
    timeline = story.cast.buyer.get(f"/cases/{story.case_id}/timeline")
    for item in timeline:
        if item["type"] == "stage_changed" and item["to"] not in world.stages:
            world.note_stage(item["to"])


def executed(world: World, story: Story) -> None:
    """The service's next ticks execute the decision on the escrow and record the payout."""
    buyer, case_id = story.cast.buyer, story.case_id
    view: dict[str, Any] = {}
    for _ in range(10):
        world.tick()
        view = buyer.get(f"/cases/{case_id}")
        story.enforcement_tx = next((a.get("txHash") for a in view["chainActions"]
                                     if a["kind"] == "execute_award"
                                     and a["status"] == "done"), None) or ""
        if view["stage"] == "enforced" and story.enforcement_tx:
            break
    _note_stages(world, story)
    if view["stage"] != "enforced" or not story.enforcement_tx:
        raise DemoError(f"the fast track was not executed: stage {view['stage']}, chain "
                        f"actions {view['chainActions']}")
    acts.read_payout(world, story)


ACTS: tuple[Act, ...] = (
    open_fast_track, acts.deposit_guarantee, acts.open_order, file_with_photo,
    agree_and_ask_for_mediator, acts.appoint_mediator, propose_fast_track, pass_window,
    executed)


def result(world: World, story: Story) -> ResultLine:
    """The JSON object of the last stdout line."""
    before, after = story.before, story.after
    to_buyer, to_seller, compensation = story.award
    timeline = story.cast.buyer.get(f"/cases/{story.case_id}/timeline")
    anchored, leaves = world.anchored_items(story.case_id)
    view = story.cast.buyer.get(f"/cases/{story.case_id}")
    return {
        "scenario": "fast-track",
        "case": story.case_id,
        "order": story.order_id,
        "stages": world.stages,
        "final_stage": view["stage"],
        "token": {"symbol": story.symbol, "address": world.deployment.token,
                  "decimals": DECIMALS},
        "proposal": {"to_buyer": decimal_units(to_buyer),
                     "to_seller": decimal_units(to_seller),
                     "compensation": decimal_units(compensation),
                     "report_hash": story.award_record_hash},
        "buyer_refund": decimal_units(after["buyer"] - before["buyer"]
                                      - max(story.compensation_paid, 0)),
        "seller_payout": decimal_units(after["seller"] - before["seller"]),
        "execute_tx": story.enforcement_tx,
        "open_order_tx": story.open_tx,
        "steps": sum(1 for i in timeline if i["type"] == "step"),
        "anchored_items": anchored,
        "leaves": leaves,
        **acts.chain_keys(world),
        "data_dir": str(world.settings.data_dir.resolve()),
    }


FAST_TRACK = Scenario(
    name="fast-track",
    title=("chainarb — the fast track: a small claim's pre-evaluation binds unless objected to",
           "快速程序：小额争议的预评估，无异议即生效并由托管合约执行"),
    acts=ACTS, result=result)
