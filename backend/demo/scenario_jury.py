"""The ``jury`` scenario: a small claim from filing through a 7-person jury's verdict to the
payment on chain (issue 14; docs/jury.md).

The parties choose the jury track, facilitation fails; nine people apply to the pool of
public assessors and the case officer admits them; the institution reads the service's
snapshot of the eligible, commits a seed naming a future block, waits for the commitment's
anchor and that block, and draws seven jurors with the block's randomness; each juror,
at their own wallet, accepts, commits a hidden vote with its EIP-712 ``JuryVote``
signature, and reveals it; the institution tallies; the escrow checks the appointed jury,
every juror's signature and the majority itself, waits out the objection window, and pays.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

from eth_account import Account
from eth_utils import keccak

from backend.demo import acts
from backend.demo.chain import chain_now, send_eth, wait_until
from backend.demo.clients import Client
from backend.demo.common import DemoError, decimal_units, sha256_hex, short
from backend.demo.world import Act, ResultLine, Scenario, Story, World
from evidence import jury as public_jury
from evidence.records import Domain, ProceduralStep, SignedRecord, bytes32, canonical_json

__all__ = ["JURY"]

JURY_SIZE, POOL_SIZE = 7, 9
# The allocation options fixed at the draw: full refund, half back, release to the seller.
OPTION_NAMES = ("full refund 全额退款", "half refunded 退还一半",
                "release to the seller 放款给卖方")
# Each juror's vote: (option, reason code): five for half back, one each for the others.
VOTES = ((1, 6), (1, 6), (0, 2), (1, 2), (1, 6), (2, 4), (1, 6))

_jurors: dict[str, list[Client]] = {}  # by case id: the drawn jurors, in draw order
_assessors: dict[str, list[Client]] = {}  # by case id: the pool's assessors
_draws: dict[str, dict[str, Any]] = {}  # by case id: the draw's public facts


def _options(price: int) -> list[dict[str, str]]:
    return [{"toBuyer": str(price), "toSeller": "0", "compensation": "0"},
            {"toBuyer": str(price // 2), "toSeller": str(price - price // 2),
             "compensation": "0"},
            {"toBuyer": "0", "toSeller": str(price), "compensation": "0"}]


def jury_rules(world: World, story: Story) -> None:
    """The institution's rules for this demo: orders up to the price go to a jury of 7."""
    service = world.ctx.service
    rules = replace(service.config.rules, jury_max_amount=acts.PRICE, jury_size=JURY_SIZE)
    service.config = replace(service.config, rules=rules)
    world.printer.step("setup", "institution 机构", "publishes the small-claims rule: orders "
                       f"up to {decimal_units(acts.PRICE)} {story.symbol} may go to a jury "
                       f"of {JURY_SIZE} public assessors (小额争议评审团)")


def choose_jury(world: World, story: Story) -> None:
    """Both parties choose the jury; the mediator cannot settle it: the draw opens."""
    buyer, seller, case_id = story.cast.buyer, story.cast.seller, story.case_id
    for party in (seller, buyer):
        res = party.post(f"/cases/{case_id}/jury/choice", party.plain(case_id, "jury.chosen"))
        world.shown(res["stage"], party, "chooses the public assessors' jury (选择评审团)", res)
    res = buyer.post(f"/cases/{case_id}/facilitation",
                     buyer.plain(case_id, "facilitation.requested"))
    world.shown("facilitation", buyer, "asks for a mediator (申请调解)", res)
    acts.appoint_mediator(world, story)
    mediator = story.cast.mediator
    res = mediator.post(f"/cases/{case_id}/impasse",
                        mediator.plain(case_id, "impasse.declared"))
    world.shown(res["stage"], mediator, "declares an impasse: the jury decides (调解僵局)", res)
    if res["stage"] != "jury_draw":
        raise DemoError(f"the case should go to the jury's draw, found {res['stage']}")


# The public assessors (each at a wallet of its own): English and Chinese names.
ASSESSORS = (("assessor Ana Souza", "评审员 安娜·索萨"), ("assessor Li Na", "评审员 李娜"),
             ("assessor Tomasz Nowak", "评审员 托马什·诺瓦克"),
             ("assessor Wang Fang", "评审员 王芳"),
             ("assessor Priya Nair", "评审员 普丽娅·奈尔"), ("assessor Zhao Lei", "评审员 赵磊"),
             ("assessor Jonas Berg", "评审员 约纳斯·伯格"), ("assessor Chen Jing", "评审员 陈静"),
             ("assessor Amira Haddad", "评审员 阿米拉·哈达德"))


def _pool_step(who: Client, domain: Domain, action: str, route: str,
               payload: dict[str, Any]) -> Any:
    """One signed step of the assessor pool (its own chain of records: ``GET /pool/head``
    gives the pool's id, the next sequence and the previous record's hash)."""
    head = who.get("/pool/head")
    rec = ProceduralStep(case_id=bytes32(head["poolId"]), sequence=head["nextSequence"],
                         prev_hash=bytes32(head["prevHash"]), actor=who.address,
                         action=action, payload_hash=bytes32(sha256_hex(canonical_json(
                             payload))), signed_at=who.at())
    return who.post(f"/pool/{route}", {"record": rec.sign(who.key.key, domain).to_json_obj(),
                                       "payload": payload})


def build_pool(world: World, story: Story) -> None:
    """Nine people apply to the institution's pool of public assessors, each signing
    ``pool.applied`` with its own key; the case officer checks each against the published
    criteria (account age, identity, standing, qualification test) and admits them."""
    admin, case_id = story.cast.admin, story.case_id
    assessors = [Client(en, zh, Account.from_key(secrets.token_bytes(32)), story.http,
                        world.clock) for en, zh in ASSESSORS[:POOL_SIZE]]
    _, _, domain = admin.head(case_id)
    criteria = admin.get("/pool/head")["criteria"]
    for i, a in enumerate(assessors):
        a.sign_in()
        res = _pool_step(a, domain, "pool.applied", "apply", {"assessor": a.address})
        world.printer.step("jury_draw", f"{a.label} {a.label_zh}", "applies to the pool of "
                           f"public assessors (pool record #{res.get('sequence')}; "
                           "申请加入评审员库)")
        facts = {"accountAgeDays": 120 + 37 * i, "identityVerified": True,
                 "standing": 70 + 3 * i, "testScore": 82 + 2 * i}
        res = _pool_step(admin, domain, "pool.admitted", "admit", {
            "assessor": a.address, "criteriaHash": criteria["hash"], **facts})
        world.printer.step("jury_draw", f"{admin.label} {admin.label_zh}", f"admits {a.label}"
                           f": account {facts['accountAgeDays']} days (≥ "
                           f"{criteria['minAccountAgeDays']}), identity verified, standing "
                           f"{facts['standing']} (≥ {criteria['minStanding']}), test "
                           f"{facts['testScore']} (≥ {criteria['minTestScore']}) under the "
                           f"criteria {short(criteria['hash'], 8)} (pool record "
                           f"#{res.get('sequence')}; 准入评审员库)")
    _assessors[case_id] = assessors


def _seed_anchored(world: World, case_id: str) -> int | None:
    """The block of the anchoring chain holding the seed commitment (the operator's view of
    the service's database, as ``World.new_batches``), None before it is confirmed."""
    from backend.services.jury_draw import seed_anchor

    with world.ctx.sessions() as session:
        return seed_anchor(session, case_id, world.handle.chain_id)


def _mine(world: World, story: Story, blocks: int) -> int:
    """Make ``blocks`` blocks appear: the embedded chain mines only on transactions, so the
    institution sends itself a zero-value transfer per block (it changes no state)."""
    for _ in range(blocks):
        send_eth(world.handle.w3, story.institution, story.institution.address, 0)
    return blocks


def draw_jury(world: World, story: Story) -> None:
    """The institution reads the service's snapshot of eligible assessors, commits a seed
    naming a future block of the anchoring chain, waits for the commitment's anchor and for
    that block, then reveals: the seed, the block's hash and prevrandao and the pool's hash
    pick the jury."""
    admin, case_id, w3 = story.cast.admin, story.case_id, world.handle.w3
    snap = admin.get(f"/cases/{case_id}/jury/snapshot")
    pool, pool_hash = list(snap["pool"]), snap["poolHash"]
    left_out = len(snap.get("excluded", []))
    world.printer.step("jury_draw", f"{admin.label} {admin.label_zh}", "reads the service's "
                       f"snapshot: {len(pool)} eligible assessors, {left_out} left out, pool "
                       f"hash {short(pool_hash, 8)} (评审员库快照)")
    seed = "0x" + secrets.token_bytes(32).hex()
    seed_hash = "0x" + public_jury.seed_commitment(case_id, 0, seed).hex()
    # room for the commitment's anchoring transaction and its confirmations before the block
    confirmations = world.settings.confirmations
    draw_block = int(w3.eth.block_number) + confirmations + 2
    res = admin.post(f"/cases/{case_id}/jury/seed", admin.plain(
        case_id, "jury.seed_committed", {"seedHash": seed_hash, "drawBlock": str(draw_block),
                                         "pool": pool, "poolHash": pool_hash}))
    world.shown("jury_draw", admin, f"commits a secret seed and the future block {draw_block} "
                f"for the draw from {len(pool)} eligible assessors (承诺随机种子)", res)
    mined = 0
    while (anchored := _seed_anchored(world, case_id)) is None:
        if int(w3.eth.block_number) >= draw_block - 1 or mined > confirmations + 2:
            raise DemoError(f"the seed commitment was not anchored before block {draw_block}")
        mined += _mine(world, story, 1)  # a confirmation block for the anchor
        world.anchor()
    if anchored >= draw_block:
        raise DemoError(f"the seed commitment was anchored in block {anchored}, not before "
                        f"the draw block {draw_block}")
    head = int(w3.eth.block_number)
    mined += _mine(world, story, max(0, draw_block - head))
    world.printer.step("jury_draw", "institution 机构", f"the commitment is anchored in block "
                       f"{anchored}; {mined} zero-value transfer(s) to itself make the embedded "
                       f"chain (which mines only on transactions) reach block {draw_block} "
                       "(等待抽选区块)")
    block = w3.eth.get_block(draw_block)
    block_hash = "0x" + bytes(block["hash"]).hex()
    prevrandao = "0x" + bytes(block["mixHash"]).hex()
    randomness = public_jury.draw_randomness(case_id, 0, seed, block_hash, prevrandao,
                                             pool_hash)
    drawn = public_jury.draw(pool, JURY_SIZE, randomness)
    res = admin.post(f"/cases/{case_id}/jury/draw", admin.plain(
        case_id, "jury.drawn", {"role": "juror", "appointees": list(drawn), "seed": seed,
                                "blockHash": block_hash, "prevrandao": prevrandao,
                                "options": _options(story.price)}))
    _draws[case_id] = {"pool": pool, "pool_hash": pool_hash, "seed": seed,
                       "seed_anchor_block": anchored, "draw_block": draw_block,
                       "block_hash": block_hash, "prevrandao": prevrandao}
    by_address = {a.address.lower(): a for a in _assessors[case_id]}
    _jurors[case_id] = [by_address[a.lower()] for a in drawn]
    world.shown(res["stage"], admin, f"reveals the seed; block {draw_block} (hash "
                f"{short(block_hash, 8)}, prevrandao {short(prevrandao, 8)}) draws "
                f"{JURY_SIZE} jurors: " + ", ".join(j.label.removeprefix("assessor ")
                                                    for j in _jurors[case_id])
                + " (公开抽选评审员)", res)


def _juror_step(juror: Client, case_id: str, action: str,
                payload: dict[str, Any] | None = None) -> Any:
    """A juror's step: the service prepares it (a juror never reads the case's record, so
    its wallet asks for the record to sign), the juror signs the typed data and posts it."""
    prepared = juror.post(f"/cases/{case_id}/steps/prepare",
                          {"action": action, "payload": payload or {}})
    signature = juror.key.sign_typed_data(full_message=prepared["typedData"]).signature
    record = SignedRecord.from_json_obj(prepared["unsignedRecord"]).with_signature(
        bytes(signature)).to_json_obj()
    return juror.post(prepared["endpoint"], {"record": record,
                                             "payload": prepared["payload"]})


def jurors_accept(world: World, story: Story) -> None:
    """Each juror accepts at their own wallet; the escrow then holds the jury's hash."""
    case_id = story.case_id
    for juror in _jurors[case_id]:
        res = _juror_step(juror, case_id, "jury.accepted")
        world.shown(res["stage"], juror, "accepts to sit (接受评审任务)", res)
    world.tick()
    view = story.cast.admin.get(f"/cases/{case_id}")
    tx = next((a.get("txHash") for a in view["chainActions"]
               if a["kind"] == "appoint_jury" and a["status"] == "done"), None)
    if not tx:
        raise DemoError(f"the jury was not fixed on the escrow: {view['chainActions']}")
    world.printer.step(view["stage"], "escrow 托管合约", "appointJury: the escrow now holds "
                       f"the hash of the {JURY_SIZE} jurors and the options (登记评审团)", tx=tx)


def _salt(case_id: str, juror: Client) -> str:
    return "0x" + keccak(text=case_id + juror.address).hex()


def jurors_vote(world: World, story: Story) -> None:
    """Hidden votes: each juror signs the JuryVote (choice, reason code, salt) and sends its
    hash with the signature; nobody can read a vote before the reveals."""
    from backend.chain import jury_vote_typed_data, sign_typed_data

    case_id = story.case_id
    for juror, (choice, reason) in zip(_jurors[case_id], VOTES, strict=True):
        domain = story.escrow.domain()
        salt = _salt(case_id, juror)
        typed = jury_vote_typed_data(domain, bytes.fromhex(case_id[2:]), juror.address,
                                     choice, reason, bytes.fromhex(salt[2:]))
        commitment = "0x" + public_jury.vote_commitment(case_id, juror.address, choice,
                                                        reason, salt).hex()
        signature = "0x" + sign_typed_data(juror.key, typed).hex()
        res = _juror_step(juror, case_id, "jury.vote_committed",
                          {"commitment": commitment, "signature": signature})
        world.shown(res["stage"], juror, f"commits a hidden vote {short(commitment, 8)} "
                    "(密封投票)", res)


def jurors_reveal(world: World, story: Story) -> None:
    """Every juror committed, so the reveals open: each opens its commitment."""
    case_id = story.case_id
    for juror, (choice, reason) in zip(_jurors[case_id], VOTES, strict=True):
        res = _juror_step(juror, case_id, "jury.vote_revealed",
                          {"choice": str(choice), "reasonCode": str(reason),
                           "salt": _salt(case_id, juror)})
        label = public_jury.REASON_CODES[reason]
        world.shown(res["stage"], juror, f"reveals: {OPTION_NAMES[choice]}, reason "
                    f"{reason} ({label[0]} {label[1]}) (公开投票)", res)


def tally(world: World, story: Story) -> None:
    """The institution signs the tally; the service submits the verdict to the escrow, which
    counts the jurors' signed votes itself."""
    admin, case_id = story.cast.admin, story.case_id
    counts = [sum(1 for c, _ in VOTES if c == i) for i in range(len(OPTION_NAMES))]
    winner = max(range(len(counts)), key=lambda i: counts[i])
    res = admin.post(f"/cases/{case_id}/jury/tally", admin.plain(
        case_id, "jury.tallied", {"counts": [str(n) for n in counts], "winner": str(winner)}))
    world.shown(res["stage"], admin, f"signs the tally {counts}: the majority chose "
                f"{OPTION_NAMES[winner]} (评审团多数意见)", res)
    world.tick()
    view = admin.get(f"/cases/{case_id}")
    tx = next((a.get("txHash") for a in view["chainActions"]
               if a["kind"] == "submit_jury_verdict" and a["status"] == "done"), None)
    if not tx:
        raise DemoError(f"the verdict did not reach the escrow: {view['chainActions']}")
    order = story.escrow.order(story.order_id)
    story.award = tuple(int(_options(story.price)[winner][k])  # type: ignore[assignment]
                        for k in ("toBuyer", "toSeller", "compensation"))
    world.printer.step(view["stage"], "escrow 托管合约", "submitJuryVerdict: the escrow "
                       f"checked the appointed jury, {sum(counts)} jurors' signatures and the "
                       f"majority; objection window until {order.deadline} (裁决待异议期)",
                       tx=tx)


def pass_window(world: World, story: Story) -> None:
    """Nobody objects within the escrow's window (real time; no clock is moved)."""
    buyer, case_id = story.cast.buyer, story.case_id
    view = buyer.get(f"/cases/{case_id}")
    ends = max(story.escrow.order(story.order_id).deadline,
               int(datetime.fromisoformat(view["deadline"]).timestamp()))
    waited = wait_until(ends + 1)
    if int(chain_now(world.handle).timestamp()) <= ends:  # a block at the new time
        send_eth(world.handle.w3, story.institution, story.institution.address, 0)
    world.tick()
    view = buyer.get(f"/cases/{case_id}")
    world.note_stage(view["stage"])
    world.printer.step(view["stage"], "time 时间", "the objection window passes without an "
                       f"objection (waited {waited:.1f} s; 异议期届满)")
    if view["stage"] != "jury_final":
        raise DemoError(f"the verdict should bind now, found {view['stage']}")


def result(world: World, story: Story) -> ResultLine:
    """The JSON object of the last stdout line."""
    before, after = story.before, story.after
    jurors = _jurors.get(story.case_id, [])
    counts = [sum(1 for c, _ in VOTES if c == i) for i in range(len(OPTION_NAMES))]
    order = story.escrow.order(story.order_id)
    return {
        "scenario": "jury",
        "case": story.case_id,
        "order": story.order_id,
        "stages": world.stages,
        "jurors": [j.address for j in jurors],
        "draw": _draws.get(story.case_id, {}),
        "counts": counts,
        "verdict": {"to_buyer": decimal_units(story.award[0]),
                    "to_seller": decimal_units(story.award[1])},
        "resolution": order.resolution.name,
        "buyer_refund": decimal_units(after["buyer"] - before["buyer"]),
        "seller_payout": decimal_units(after["seller"] - before["seller"]),
        "enforcement_tx": story.enforcement_tx,
        "open_order_tx": story.open_tx,
        **acts.chain_keys(world),
        "token": {"symbol": story.symbol, "address": world.deployment.token},
    }


ACTS: tuple[Act, ...] = (
    jury_rules, acts.deposit_guarantee, acts.open_order, acts.file_claim, choose_jury,
    build_pool, draw_jury, jurors_accept, jurors_vote, jurors_reveal, tally, pass_window,
    acts.enforce_award)

JURY = Scenario(
    name="jury",
    title=("chainarb — a small claim decided by a jury of 7 public assessors, paid on chain",
           "小额争议：7名大众评审员裁决，链上执行"),
    acts=ACTS, result=result)

