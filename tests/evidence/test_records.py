"""EIP-712 records: literal vectors, MetaMask's implementation, OpenZeppelin on a real EVM,
round trips, and the attacks a signed record must survive."""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys import keys
from eth_tester.exceptions import TransactionFailed
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from evidence.errors import (
    EvidenceError,
    FormatError,
    InvalidAddress,
    InvalidRecord,
    InvalidSignature,
    MalleableSignature,
    ReplayError,
    UnsupportedVersion,
    WrongSigner,
)
from evidence.records import (
    ONCHAIN_TYPE_STRINGS,
    RECORD_TYPES,
    SECP256K1_N,
    ZERO_HASH,
    Allocation,
    Award,
    ContractOfSale,
    CourtConfirmation,
    Domain,
    EvidenceSubmission,
    ProceduralStep,
    Record,
    ReturnAward,
    ReturnSettlement,
    Settlement,
    SignedRecord,
    canonical_json,
    checksum_address,
    normalize_signature,
    record_from_mapping,
    records_from_json_lines,
    recover_signer,
)
from evidence.sale_terms import DISPUTE_CLAUSES, RETURN_POLICIES, RULES_VERSIONS

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests/vectors/eip712.json").read_text())
KEYS = VECTORS["keys"]
ADDR = {name: Account.from_key(k).address for name, k in KEYS.items()}
DOMAIN = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
OTHER_CHAIN = Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract)
OTHER_CONTRACT = Domain(
    chain_id=31337, verifying_contract="0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
)
CASE = bytes.fromhex("c0ffee00" + "00" * 28)
OTHER_CASE = bytes.fromhex("c0ffee01" + "00" * 28)


def evidence(**changes: Any) -> EvidenceSubmission:
    fields: dict[str, Any] = {
        "case_id": CASE,
        "sequence": 3,
        "prev_hash": b"\x11" * 32,
        "submitter": ADDR["buyer"],
        "commitment": b"\x22" * 32,
        "content_cid": "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "signed_at": 1764000000,
    }
    fields.update(changes)
    return EvidenceSubmission(**fields)


def settlement(**changes: Any) -> Settlement:
    fields: dict[str, Any] = {
        "order_id": 42,
        "case_id": CASE,
        "to_buyer": 600,
        "to_seller": 400,
        "compensation": 0,
    }
    fields.update(changes)
    return Settlement(**fields)


def award(round_: int = 0) -> Award:
    return Award(
        order_id=42,
        case_id=CASE,
        to_buyer=1000,
        to_seller=0,
        compensation=5,
        award_hash=b"\x55" * 32,
        round=round_,
    )


# --- vectors and other implementations ---------------------------------------------------


def _vector_record(vec: dict[str, Any]) -> SignedRecord:
    return SignedRecord.from_json(vec["json"])


@pytest.mark.parametrize("vec", VECTORS["vectors"], ids=lambda v: v["name"])
def test_vector_literal(vec: dict[str, Any]) -> None:
    signed = _vector_record(vec)
    rec = signed.record
    assert rec.type_string() == vec["typeString"]
    assert "0x" + rec.type_hash().hex() == vec["typeHash"]
    assert "0x" + keccak(vec["typeString"].encode()).hex() == vec["typeHash"]
    assert "0x" + signed.domain.separator().hex() == vec["domainSeparator"]
    assert "0x" + rec.struct_hash().hex() == vec["structHash"]
    assert "0x" + signed.record_hash.hex() == vec["digest"]
    assert "0x" + signed.signatures_hash.hex() == vec["signaturesHash"]
    assert rec.typed_data_json(signed.domain) == vec["typedData"]
    # deterministic (RFC 6979) signatures: signing again gives the literal bytes
    for who, sig in vec["signatures"].items():
        assert "0x" + rec.sign(KEYS[who], signed.domain).signatures[0].hex() == sig
    expected = [ADDR[s] for s in vec["signers"]]
    assert sorted(signed.verify(expected)) == sorted(expected)
    assert signed.to_json().decode() == vec["json"]


def test_onchain_type_strings_are_the_escrows() -> None:
    """docs/eip712.md fixes these two; the same signature must execute on the escrow."""
    assert Settlement.type_string() == (
        "Settlement(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
        "uint256 compensation)"
    )
    assert Award.type_string() == (
        "Award(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
        "uint256 compensation,bytes32 awardHash,uint8 round)"
    )
    assert {
        "Settlement": Settlement.type_string(),
        "Award": Award.type_string(),
        "ReturnAward": ReturnAward.type_string(),
        "ReturnSettlement": ReturnSettlement.type_string(),
    } == ONCHAIN_TYPE_STRINGS


@pytest.mark.parametrize("bad", [-1, 2**256, True, 1.0, "5", None])
def test_allocation_holds_uint256_integers_only(bad: object) -> None:
    with pytest.raises(InvalidRecord, match=r"allocation\.to_seller"):
        Allocation(1, bad)  # type: ignore[arg-type]
    assert Allocation(2**256 - 1, 0, 3).as_tuple() == (2**256 - 1, 0, 3)


def test_the_wallet_payloads_are_the_records_typed_data() -> None:
    """backend.chain.typed_data declares nothing of its own: its Settlement and Award
    payloads are these records' (one declaration of the types and the domain)."""
    from backend.chain.typed_data import award_typed_data, settlement_typed_data

    domain = Domain(chain_id=5, verifying_contract="0x" + "11" * 20)
    split = Allocation(to_buyer=7, to_seller=3, compensation=1)
    case = bytes(range(32))
    assert settlement_typed_data(domain, 9, case, split) == Settlement(
        order_id=9, case_id=case, to_buyer=7, to_seller=3, compensation=1).typed_data(domain)
    assert award_typed_data(domain, 9, case, split, ZERO_HASH, 1) == Award(
        order_id=9, case_id=case, to_buyer=7, to_seller=3, compensation=1,
        award_hash=ZERO_HASH, round=1).typed_data(domain)


def _node_eip712(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        ["node", "tests/js/eip712.mjs"],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.node
def test_vectors_match_metamask() -> None:
    cases = [
        {"typedData": vec["typedData"], "privateKey": KEYS[who]}
        for vec in VECTORS["vectors"]
        for who in vec["signers"]
    ]
    out = iter(_node_eip712(cases))
    for vec in VECTORS["vectors"]:
        for who in vec["signers"]:
            got = next(out)
            assert got["digest"] == vec["digest"], vec["name"]
            assert got["domainSeparator"] == vec["domainSeparator"], vec["name"]
            assert got["signature"] == vec["signatures"][who], vec["name"]
            assert to_checksum_address(got["recovered"]) == ADDR[who]


def _random_value(rng: random.Random, name: str, sol_type: str) -> Any:
    if sol_type == "bytes32":
        return rng.randbytes(32)
    if sol_type == "address":
        return to_checksum_address(rng.randbytes(20))
    if sol_type == "bool":
        return rng.random() < 0.5
    if sol_type.startswith("uint"):
        bits = int(sol_type[4:])
        return rng.choice([0, 1, (1 << bits) - 1, rng.getrandbits(bits)])
    if name == "action":
        return rng.choice(["file_claim", "appoint.arbitrator", "close_record", "x"])
    if name == "role":  # a Disclosure's: the neutrals who disclose
        return rng.choice(["mediator", "arbitrator", "panelist"])
    if name == "country":  # a Profile's: ISO 3166-1 alpha-2, or none
        return rng.choice(["", "CN", "DE", "SG"])
    if name == "language":  # a Profile's: BCP 47, or none
        return rng.choice(["", "en", "zh-Hans", "de-DE"])
    if name == "contentCid":
        return "bafy" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz234567", k=55))
    return "".join(rng.choices("aé中 🙂Zz09-/()（）", k=rng.randrange(0, 40)))


def _standard_terms(pick: int) -> dict[str, Any]:
    """A ContractOfSale's standard texts (declared ids with their hashes): random text there
    is refused by design, so the random records name declared ones."""
    clause = sorted(DISPUTE_CLAUSES)[pick % len(DISPUTE_CLAUSES)]
    policy = sorted(RETURN_POLICIES)[pick % len(RETURN_POLICIES)]
    rules = sorted(RULES_VERSIONS)[0]
    return {"disputeClause": clause, "clauseHash": DISPUTE_CLAUSES[clause].hash,
            "returnPolicy": policy, "returnPolicyHash": RETURN_POLICIES[policy].hash,
            "rulesVersion": rules, "rulesHash": RULES_VERSIONS[rules].hash}


def _random_record(rng: random.Random, cls: type[Record], signer: str | None) -> Record:
    while True:
        values = {n: _random_value(rng, n, t) for n, t in cls.FIELDS}
        if cls.SIGNER_FIELD and signer:
            values[cls.SIGNER_FIELD] = signer
        if cls is Award:
            values["round"] = rng.randrange(2)
        if cls is ContractOfSale:
            values.update(_standard_terms(rng.randrange(3)))
        try:
            return record_from_mapping(cls.TYPE_NAME, values)
        except InvalidRecord:
            continue


@pytest.mark.node
def test_random_records_match_metamask() -> None:
    """Every type, random values (extremes included), random keys and domains."""
    rng = random.Random(712)
    cases, expected = [], []
    for i in range(6 * len(RECORD_TYPES)):
        cls = list(RECORD_TYPES.values())[i % len(RECORD_TYPES)]
        key = "0x" + rng.randbytes(32).hex()
        rec = _random_record(rng, cls, Account.from_key(key).address)
        dom = Domain(
            chain_id=rng.choice([1, 31337, 131277322940537, (1 << 256) - 1]),
            verifying_contract=to_checksum_address(rng.randbytes(20)),
        )
        signed = rec.sign(key, dom)
        cases.append({"typedData": rec.typed_data_json(dom), "privateKey": key})
        expected.append(signed)
    for got, signed in zip(_node_eip712(cases), expected, strict=True):
        assert got["digest"] == "0x" + signed.record_hash.hex()
        assert got["signature"] == "0x" + signed.signatures[0].hex()
        assert got["domainSeparator"] == "0x" + signed.domain.separator().hex()


def test_onchain_openzeppelin_accepts_our_signatures(evidence_check: Any) -> None:
    """OpenZeppelin EIP712 + ECDSA on py-evm: same domain separator, digest and signer."""
    contract, chain_id = evidence_check
    dom = Domain(chain_id=chain_id, verifying_contract=contract.address)
    assert contract.functions.domainSeparator().call() == dom.separator()
    assert Domain.from_eip5267(contract.functions.eip712Domain().call()) == dom
    with pytest.raises(InvalidRecord, match="0x0f"):
        Domain.from_eip5267((b"\x1f", "chainarb", "1", 1, dom.verifying_contract, b"\x01", []))
    with pytest.raises(FormatError):
        Domain.from_eip5267((b"\x0f", "chainarb"))

    for rnd in (0, 1):
        a = award(rnd)
        signed = a.sign(KEYS["arbitrator"], dom)
        signer, digest = contract.functions.awardSigner(
            a.order_id, a.case_id, a.to_buyer, a.to_seller, a.compensation, a.award_hash,
            a.round, signed.signatures[0],
        ).call()
        assert digest == signed.record_hash
        assert signer == ADDR["arbitrator"]

    s = settlement()
    cosigned = SignedRecord(dom, s).add_signature(KEYS["buyer"]).add_signature(KEYS["seller"])
    got = set()
    for sig in cosigned.signatures:
        signer, digest = contract.functions.settlementSigner(
            s.order_id, s.case_id, s.to_buyer, s.to_seller, s.compensation, sig
        ).call()
        assert digest == cosigned.record_hash
        got.add(signer)
    assert got == {ADDR["buyer"], ADDR["seller"]}

    # A wallet's v in {0, 1} is refused by OZ ECDSA; normalized by us, it is accepted.
    raw = bytearray(award().sign(KEYS["arbitrator"], dom).signatures[0])
    raw[64] -= 27
    a = award()
    args = (a.order_id, a.case_id, a.to_buyer, a.to_seller, a.compensation, a.award_hash, 0)
    with pytest.raises((ContractLogicError, TransactionFailed), match="reverted"):
        contract.functions.awardSigner(*args, bytes(raw)).call()
    signer, _ = contract.functions.awardSigner(*args, normalize_signature(bytes(raw))).call()
    assert signer == ADDR["arbitrator"]


# --- round trips ------------------------------------------------------------------------


def _strategy_for(name: str, sol_type: str) -> st.SearchStrategy[Any]:
    if sol_type == "bytes32":
        return st.binary(min_size=32, max_size=32)
    if sol_type == "address":
        raw = st.binary(min_size=20, max_size=20)
        return st.one_of(raw.map(to_checksum_address), raw.map(lambda b: "0x" + b.hex()))
    if sol_type == "bool":
        return st.booleans()
    if sol_type.startswith("uint"):
        return st.integers(min_value=0, max_value=(1 << int(sol_type[4:])) - 1)
    if name == "action":
        return st.from_regex(r"[a-z][a-z0-9_.]{0,20}", fullmatch=True)
    if name == "contentCid":
        return st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567", min_size=1, max_size=60)
    return st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30
    )


@st.composite
def records(draw: st.DrawFn) -> Record:
    cls = draw(st.sampled_from(list(RECORD_TYPES.values())))
    values = {n: draw(_strategy_for(n, t)) for n, t in cls.FIELDS}
    if cls is Award:
        values["round"] = draw(st.integers(0, 1))
    if cls is ContractOfSale:
        values.update(_standard_terms(draw(st.integers(0, 2))))
    try:
        return record_from_mapping(cls.TYPE_NAME, values)
    except InvalidRecord:
        assume(False)
        raise


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rec=records(), chain_id=st.integers(1, (1 << 256) - 1))
def test_canonical_json_round_trip(rec: Record, chain_id: int) -> None:
    dom = Domain(chain_id=chain_id, verifying_contract=DOMAIN.verifying_contract)
    signed = SignedRecord(dom, rec)
    data = signed.to_json()
    back = SignedRecord.from_json(data)
    assert back == signed
    assert back.to_json() == data
    assert back.record_hash == signed.record_hash
    # our flat-struct encoder equals eth-account's general one
    assert signed.record_hash == rec.digest_eth_account(dom)
    assert rec.struct_hash() == encode_typed_data(full_message=dict(rec.typed_data(dom))).body
    obj = json.loads(data)
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert data == canonical.encode()
    # addresses come out checksummed, whatever case went in
    for name, sol_type in rec.FIELDS:
        if sol_type == "address":
            assert obj["message"][name] == to_checksum_address(obj["message"][name])


@settings(max_examples=40, deadline=None)
@given(key=st.binary(min_size=32, max_size=32), rec=records())
def test_sign_then_verify_any_record(key: bytes, rec: Record) -> None:
    assume(0 < int.from_bytes(key, "big") < SECP256K1_N)
    me = Account.from_key(key).address
    if rec.SIGNER_FIELD:
        rec = dataclasses.replace(rec, **{_attr(rec.SIGNER_FIELD): me})
    signed = rec.sign(key, DOMAIN)
    assert signed.verify(me) == (me,)
    assert SignedRecord.from_json(signed.to_json()).verify([me]) == (me,)


def _attr(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def test_hash_chain_links() -> None:
    """Each step names the record hash of the one before; binding checks it."""
    prev = ZERO_HASH
    chain = []
    for seq, action in enumerate(["file_claim", "answer", "close_record"]):
        step = ProceduralStep(
            case_id=CASE, sequence=seq, prev_hash=prev, actor=ADDR["buyer"], action=action,
            payload_hash=keccak(action.encode()), signed_at=1764000000 + seq,
        ).sign(KEYS["buyer"], DOMAIN)
        step.check_binding(DOMAIN, case_id=CASE, sequence=seq, prev_hash=prev)
        chain.append(step)
        prev = step.record_hash
    assert len({s.record_hash for s in chain}) == 3
    with pytest.raises(ReplayError, match="another position"):
        chain[2].check_binding(DOMAIN, case_id=CASE, sequence=2, prev_hash=chain[0].record_hash)


# --- attacks ----------------------------------------------------------------------------


def test_forged_signature_refused() -> None:
    rec = evidence()  # names the buyer as submitter
    with pytest.raises(WrongSigner, match="key belongs to"):
        rec.sign(KEYS["seller"], DOMAIN)
    forged_sig = Account.sign_typed_data(KEYS["seller"], full_message=rec.typed_data(DOMAIN))
    forged = SignedRecord(DOMAIN, rec, (bytes(forged_sig.signature),))
    with pytest.raises(WrongSigner, match="forged"):
        forged.verify()
    # random bytes that happen to be a well-formed signature recover some other address
    junk = SignedRecord(DOMAIN, rec, (b"\x01" * 32 + b"\x02" * 32 + b"\x1b",))
    with pytest.raises((WrongSigner, InvalidSignature)):
        junk.verify()


def test_tampered_field_breaks_signature() -> None:
    signed = evidence().sign(KEYS["buyer"], DOMAIN)
    altered = dataclasses.replace(signed.record, commitment=b"\x23" * 32)
    with pytest.raises(WrongSigner):
        SignedRecord(DOMAIN, altered, signed.signatures).verify()


@pytest.mark.parametrize(
    ("change", "binding", "match"),
    [
        ({"case_id": OTHER_CASE}, {"case_id": CASE}, "is for case"),
        ({"sequence": 4}, {"case_id": CASE, "sequence": 3}, "sequence 4"),
        ({"prev_hash": b"\x12" * 32}, {"case_id": CASE, "prev_hash": b"\x11" * 32}, "follows"),
    ],
    ids=["other-case", "other-step", "other-prev"],
)
def test_replay_into_another_case_or_step(
    change: dict[str, Any], binding: dict[str, Any], match: str
) -> None:
    """A genuine signature from elsewhere: refused as a replay when presented as is, and
    as a wrong signer when grafted onto the record it is replayed into."""
    original = evidence(**change).sign(KEYS["buyer"], DOMAIN)
    original.verify(ADDR["buyer"])  # genuinely signed...
    with pytest.raises(ReplayError, match=match):  # ...but for another case or step
        original.check_binding(DOMAIN, **binding)
    grafted = SignedRecord(DOMAIN, evidence(), original.signatures)
    with pytest.raises(WrongSigner):
        grafted.verify()
    evidence().sign(KEYS["buyer"], DOMAIN).check_binding(
        DOMAIN, case_id=CASE, sequence=3, prev_hash=b"\x11" * 32
    )


@pytest.mark.parametrize("other", [OTHER_CHAIN, OTHER_CONTRACT], ids=["chain", "contract"])
def test_signature_for_another_chain_or_contract(other: Domain) -> None:
    signed = award().sign(KEYS["arbitrator"], other)
    signed.verify(ADDR["arbitrator"])
    with pytest.raises(ReplayError, match="signed for chain"):
        signed.check_binding(DOMAIN, case_id=CASE)
    moved = SignedRecord(DOMAIN, signed.record, signed.signatures)
    with pytest.raises(WrongSigner):
        moved.verify(ADDR["arbitrator"])
    # and through JSON: swapping the domain object does not carry the signature along
    obj = json.loads(signed.to_json())
    obj["domain"] = DOMAIN.to_json_obj()
    with pytest.raises(WrongSigner):
        SignedRecord.from_json(json.dumps(obj)).verify(ADDR["arbitrator"])


def test_award_for_another_order_refused() -> None:
    signed = award().sign(KEYS["arbitrator"], DOMAIN)
    signed.check_binding(DOMAIN, case_id=CASE, order_id=42)
    with pytest.raises(ReplayError, match="order 42, expected order 43"):
        signed.check_binding(DOMAIN, case_id=CASE, order_id=43)
    with pytest.raises(InvalidRecord, match="names no order"):
        evidence().sign(KEYS["buyer"], DOMAIN).check_binding(DOMAIN, case_id=CASE, order_id=42)


def test_round0_award_signature_is_not_a_panel_signature() -> None:
    sig = award(0).sign(KEYS["arbitrator"], DOMAIN).signatures
    with pytest.raises(WrongSigner):
        SignedRecord(DOMAIN, award(1), sig).verify(ADDR["arbitrator"])


def _bad_case(address: str) -> str:
    """Flip the case of one letter of a checksummed address: an invalid EIP-55 checksum."""
    i = next(i for i, c in enumerate(address[2:], 2) if c.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1 :]


def test_wrong_case_address_refused() -> None:
    good = ADDR["buyer"]
    bad = _bad_case(good)
    assert bad.lower() == good.lower() and bad != good
    with pytest.raises(InvalidAddress, match="checksum"):
        checksum_address(bad)
    with pytest.raises(InvalidAddress):
        evidence(submitter=bad)
    with pytest.raises(InvalidAddress):
        Domain(chain_id=1, verifying_contract=_bad_case(DOMAIN.verifying_contract))
    data = evidence().sign(KEYS["buyer"], DOMAIN).to_json().decode().replace(good, bad)
    with pytest.raises(InvalidAddress):
        SignedRecord.from_json(data)
    # all-lowercase and all-uppercase carry no checksum: accepted, output checksummed
    assert checksum_address(good.lower()) == good
    assert checksum_address("0x" + good[2:].upper()) == good
    for bad_form in ["0x123", good[2:], good + "00", "0x" + "g" * 40, 42]:
        with pytest.raises(InvalidAddress):
            checksum_address(bad_form)


def test_high_s_malleable_signature_refused() -> None:
    signed = evidence().sign(KEYS["buyer"], DOMAIN)
    sig = signed.signatures[0]
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28
    # the twin is a valid ECDSA signature by the same key...
    vrs = (twin[64] - 27, int.from_bytes(twin[:32], "big"), int.from_bytes(twin[32:64], "big"))
    pub = keys.Signature(vrs=vrs).recover_public_key_from_msg_hash(signed.record_hash)
    assert pub.to_checksum_address() == ADDR["buyer"]
    # ...which we refuse, as OpenZeppelin's ECDSA does
    with pytest.raises(MalleableSignature, match="upper half"):
        SignedRecord(DOMAIN, signed.record, (twin,))
    with pytest.raises(MalleableSignature):
        recover_signer(signed.record_hash, twin)


def test_signature_forms() -> None:
    signed = evidence().sign(KEYS["buyer"], DOMAIN)
    sig = signed.signatures[0]
    assert sig[64] in (27, 28)
    zero_one = sig[:64] + bytes([sig[64] - 27])
    assert normalize_signature(zero_one) == sig
    assert normalize_signature("0x" + zero_one.hex()) == sig
    assert SignedRecord(DOMAIN, signed.record, (zero_one,)).verify() == (ADDR["buyer"],)
    bad = [
        sig[:64],  # EIP-2098 compact form: refused like OZ 5
        sig + b"\x00",
        b"",
        sig[:64] + b"\x1d",  # v = 29
        sig[:64] + b"\x02",
        bytes(32) + sig[32:],  # r = 0
        sig[:32] + bytes(32) + sig[64:],  # s = 0
        SECP256K1_N.to_bytes(32, "big") + sig[32:],  # r = n
        "0xzz",
    ]
    for b in bad:
        with pytest.raises(InvalidSignature):
            normalize_signature(b)  # type: ignore[arg-type]
    with pytest.raises(InvalidSignature, match="twice"):
        SignedRecord(DOMAIN, signed.record, (sig, zero_one))


def test_settlement_needs_both_parties() -> None:
    base = SignedRecord(DOMAIN, settlement())
    with pytest.raises(InvalidSignature, match="no signature"):
        base.verify([ADDR["buyer"], ADDR["seller"]])
    buyer_only = base.add_signature(KEYS["buyer"])
    with pytest.raises(WrongSigner, match="2 required"):
        buyer_only.verify([ADDR["buyer"], ADDR["seller"]])
    both = buyer_only.add_signature(KEYS["seller"])
    assert set(both.verify([ADDR["buyer"], ADDR["seller"]])) == {ADDR["buyer"], ADDR["seller"]}
    # order of arrival does not change the canonical form
    other_order = base.add_signature(KEYS["seller"]).add_signature(KEYS["buyer"])
    assert other_order.to_json() == both.to_json()
    assert other_order.signatures_hash == both.signatures_hash
    with pytest.raises(WrongSigner, match="expected signers"):
        both.verify()
    stranger = base.add_signature(KEYS["buyer"]).add_signature(KEYS["court"])
    with pytest.raises(WrongSigner, match="not among"):
        stranger.verify([ADDR["buyer"], ADDR["seller"]])


def test_panel_award_two_of_three() -> None:
    panel_keys = ["0x" + bytes([i]) .hex() * 32 for i in (0x31, 0x32, 0x33)]
    panel = [Account.from_key(k).address for k in panel_keys]
    one = SignedRecord(DOMAIN, award(1)).add_signature(panel_keys[0])
    with pytest.raises(WrongSigner, match="1 distinct"):
        one.verify(panel, threshold=2)
    two = one.add_signature(panel_keys[2])
    assert set(two.verify(panel, threshold=2)) == {panel[0], panel[2]}


def test_invalid_records_cannot_be_built() -> None:
    with pytest.raises(InvalidRecord, match="round"):
        dataclasses.replace(award(), round=2)
    with pytest.raises(InvalidRecord, match="uint64"):
        evidence(sequence=1 << 64)
    with pytest.raises(InvalidRecord):
        evidence(sequence=-1)
    with pytest.raises(InvalidRecord):
        evidence(sequence=True)
    with pytest.raises(InvalidRecord, match="32 bytes"):
        evidence(commitment=b"\x00" * 31)
    with pytest.raises(InvalidRecord):
        evidence(content_cid="")
    with pytest.raises(InvalidRecord):
        evidence(content_cid="x" * 129)
    with pytest.raises(InvalidRecord, match="action"):
        ProceduralStep(
            case_id=CASE, sequence=0, prev_hash=ZERO_HASH, actor=ADDR["buyer"],
            action="File Claim", payload_hash=ZERO_HASH, signed_at=0,
        )
    with pytest.raises(InvalidRecord, match="reasons"):
        CourtConfirmation(
            case_id=CASE, sequence=1, prev_hash=ZERO_HASH, court=ADDR["court"],
            package_hash=b"\x01" * 32, award_record_hash=b"\x02" * 32, confirmed=False,
            reasons_hash=ZERO_HASH, court_reference="ref", signed_at=0,
        )
    with pytest.raises(InvalidRecord, match="control"):
        CourtConfirmation(
            case_id=CASE, sequence=1, prev_hash=ZERO_HASH, court=ADDR["court"],
            package_hash=b"\x01" * 32, award_record_hash=b"\x02" * 32, confirmed=True,
            reasons_hash=ZERO_HASH, court_reference="ref\x00", signed_at=0,
        )
    with pytest.raises(InvalidRecord, match="no sequence"):
        award().sign(KEYS["arbitrator"], DOMAIN).check_binding(DOMAIN, case_id=CASE, sequence=1)
    with pytest.raises(UnsupportedVersion):
        Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract, version="2")
    with pytest.raises(TypeError, match="abstract"):
        EvidenceError("x")


def _json_obj() -> dict[str, Any]:
    return json.loads(evidence().sign(KEYS["buyer"], DOMAIN).to_json())


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda o: o.update(v=2), UnsupportedVersion),
        (lambda o: o["domain"].update(version="2"), UnsupportedVersion),
        (lambda o: o.update(format="other"), FormatError),
        (lambda o: o.update(extra=1), FormatError),
        (lambda o: o.update(type="Unknown"), FormatError),
        (lambda o: o["message"].update(extra="0"), FormatError),
        (lambda o: o["message"].pop("sequence"), FormatError),
        (lambda o: o["message"].update(sequence=3), FormatError),  # uints are strings
        (lambda o: o["message"].update(sequence="03"), InvalidRecord),
        (lambda o: o["message"].update(sequence="-3"), InvalidRecord),
        (lambda o: o["message"].update(commitment="0x12"), InvalidRecord),
        (lambda o: o.update(signatures="0x00"), FormatError),
        (lambda o: o.update(signatures=["0x" + "00" * 65]), InvalidSignature),
    ],
)
def test_malformed_json_refused(mutate: Any, error: type[Exception]) -> None:
    obj = _json_obj()
    mutate(obj)
    with pytest.raises(error):
        SignedRecord.from_json(json.dumps(obj))


def test_malformed_json_bytes_refused() -> None:
    data = evidence().sign(KEYS["buyer"], DOMAIN).to_json().decode()
    with pytest.raises(FormatError, match="duplicate"):
        SignedRecord.from_json(data[:-1] + ',"v":1}')
    with pytest.raises(FormatError, match="integers"):
        SignedRecord.from_json(data.replace('"v":1', '"v":1.0'))
    with pytest.raises(FormatError, match="limit"):
        SignedRecord.from_json(b" " * (64 * 1024 + 1))
    with pytest.raises(FormatError):
        SignedRecord.from_json(b"\xff")
    with pytest.raises(FormatError):
        SignedRecord.from_json("[1, 2")


def test_wallet_signature_attached_later_and_json_lines() -> None:
    """The web flow: the platform shows typed_data_json, the wallet returns a hex
    signature, the record is stored as one canonical JSON line of the case log."""
    vec = next(v for v in VECTORS["vectors"] if v["name"] == "settlement")
    rec = SignedRecord.from_json(vec["json"]).record
    unsigned = SignedRecord(DOMAIN, rec)
    signed = unsigned.with_signature(vec["signatures"]["seller"]).with_signature(
        vec["signatures"]["buyer"]
    )
    assert signed.to_json().decode() == vec["json"]
    assert set(signed.signers()) == {ADDR["buyer"], ADDR["seller"]}
    lines = [signed.to_json(), b"", evidence().sign(KEYS["buyer"], DOMAIN).to_json()]
    parsed = records_from_json_lines(lines)
    assert [p.record.TYPE_NAME for p in parsed] == ["Settlement", "EvidenceSubmission"]
    assert canonical_json({"b": 1, "a": "中"}) == '{"a":"中","b":1}'.encode()
    with pytest.raises(InvalidRecord, match="expected the fields"):
        record_from_mapping("Settlement", {"orderId": 1})
    with pytest.raises(InvalidRecord, match="unknown record type"):
        record_from_mapping("Nope", {})
