"""The ``main`` scenario: one cross-border case from the guarantee and the contract of sale
signed at checkout (its dispute clause the agreement to arbitrate), the carrier's events
recorded as the goods travel, through negotiation, mediation, arbitration and the award's
execution, to the court's confirmation of the verified package (README, "The main job")."""

from __future__ import annotations

from backend.demo import acts, court, identity
from backend.demo.common import DECIMALS, DemoError, decimal_units
from backend.demo.world import Act, ResultLine, Scenario, Story, World

__all__ = ["ACTS", "MAIN", "result_line"]

# The story, act by act, once everyone has signed in.
ACTS: tuple[Act, ...] = (
    identity.declare_profiles, acts.deposit_guarantee, acts.checkout, acts.ship_goods,
    acts.file_claim, acts.negotiate,
    acts.appoint_mediator, acts.mediate, acts.agree_to_arbitrate, acts.appoint_arbitrator,
    acts.submit_evidence, acts.answer_and_close_record, acts.issue_award,
    acts.pass_objection_window, acts.enforce_award, court.give_court_access,
    court.download_package, court.verify_package, court.confirm_judicially,
    court.open_certificate_url)


def finish(world: World, story: Story) -> ResultLine:
    """Refuse a run whose package did not verify; else the result line's object."""
    anchored, total = world.anchored_items(story.case_id)
    timeline = story.cast.buyer.get(f"/cases/{story.case_id}/timeline")
    if story.report is None or not story.report.ok:
        failed = story.report.failed() if story.report else "the court verified no package"
        raise DemoError(f"the judicial package did not verify: {failed}")
    steps = sum(1 for i in timeline if i["type"] == "step")
    return result_line(world, story, anchored=anchored, leaves=total, steps=steps)


def result_line(world: World, story: Story, *, anchored: int, leaves: int,
                steps: int) -> ResultLine:
    """The JSON object of the last stdout line (README, "The main job")."""
    before, after, dep = story.before, story.after, world.deployment
    assert story.report is not None  # play() refused a run without a verified package
    to_buyer, to_seller, compensation = story.award
    refund = after["buyer"] - before["buyer"] - story.compensation_paid
    assert story.package_path is not None
    return {
        "case": story.case_id,
        "order": story.order_id,
        "stages": world.stages,
        "token": {"symbol": story.symbol, "address": dep.token, "decimals": DECIMALS},
        "buyer_refund": decimal_units(refund),
        "seller_payout": decimal_units(after["seller"] - before["seller"]),
        "compensation": decimal_units(story.compensation_paid),
        "award": {"to_buyer": decimal_units(to_buyer), "to_seller": decimal_units(to_seller),
                  "compensation": decimal_units(compensation)},
        "guarantee_left": decimal_units(after["guarantee"]),
        "anchored_items": anchored,
        "leaves": leaves,
        "steps": steps,
        "package": str(story.package_path.resolve()),
        "package_verified": story.report.ok,
        "package_digest": story.report.package_digest,
        "enforcement_tx": story.enforcement_tx,
        "open_order_tx": story.open_tx,
        "contract_of_sale": story.contract_hash,
        "carrier_events": len(story.shipment_items),
        "evidence_cids": story.evidence_cids,
        **acts.chain_keys(world),
        "buyer": story.cast.buyer.address,
        "seller": story.cast.seller.address,
        "data_dir": str(world.settings.data_dir.resolve()),
    }


MAIN = Scenario(
    name="main",
    title=("chainarb — the main job: one cross-border case, end to end",
           "跨境电商争议：从付款到司法确认的完整流程"),
    acts=ACTS, result=finish)
