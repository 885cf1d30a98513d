"""Signed notes and checkpoints: the C2SP formats, signatures an independent EIP-191
implementation (eth-account) agrees with, and forged, foreign or malformed notes refused
with the error that names why."""

from __future__ import annotations

import base64
import hashlib

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from evidence.errors import InvalidSignature
from evidence.log import (
    SIGNATURE_TYPE,
    Checkpoint,
    ConsistencyProofError,
    MerkleLog,
    Note,
    NoteForged,
    NoteFormatError,
    NoteSigner,
    NoteUnsigned,
    OriginMismatch,
    key_id,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_checkpoints_consistent,
    verify_note,
)

ORIGIN = "chainarb.example/log"
# Test keys only (private halves published here): never an installation's institution key.
KEY = "0x" + "4c" * 32
NEW_KEY = "0x" + "5d" * 32
OTHER_KEY = "0x" + "6e" * 32
SIGNER = NoteSigner.from_private_key(KEY)
NEW_SIGNER = NoteSigner.from_private_key(NEW_KEY)
OTHER = NoteSigner.from_private_key(OTHER_KEY)

# c2sp.org/signed-note's example (an Ed25519 note) and c2sp.org/tlog-checkpoint's example.
SPEC_NOTE = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    "\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMo"
    "uFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcy"
    "v2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


@pytest.fixture(scope="module")
def log() -> MerkleLog:
    return MerkleLog.of(i.to_bytes(8, "big") for i in range(50))


def _checkpoint(log: MerkleLog, size: int) -> Checkpoint:
    return Checkpoint(ORIGIN, size, log.root(size))


def test_checkpoint_note_round_trip(log: MerkleLog) -> None:
    cp = _checkpoint(log, 37)
    note = sign_checkpoint(cp, SIGNER)
    text, sig_line = note.split("\n\n")
    assert text + "\n" == cp.body() == f"{ORIGIN}\n37\n{base64.b64encode(log.root(37)).decode()}\n"
    assert sig_line.startswith(f"— {ORIGIN} ") and sig_line.endswith("\n")
    signed = verify_checkpoint(note, [SIGNER.address], ORIGIN)
    assert (signed.checkpoint, signed.note, signed.signers) == (cp, note, (SIGNER.address,))
    assert verify_checkpoint(note.encode(), [SIGNER.address]).root == log.root(37)


def test_signature_is_eip191_personal_sign_with_the_spec_key_id(log: MerkleLog) -> None:
    """eth-account (an independent EIP-191 signer) makes the same signature, and the key ID is
    SHA-256(name ‖ 0x0A ‖ 0xff ‖ identifier ‖ address)[:4], computed here by hand."""
    cp = _checkpoint(log, 8)
    raw = base64.b64decode(sign_checkpoint(cp, SIGNER).split("\n\n")[1].split(" ")[2])
    theirs = Account.sign_message(encode_defunct(primitive=cp.body().encode()), KEY)
    assert raw[4:] == bytes(theirs.signature)
    address = bytes.fromhex(SIGNER.address[2:])
    want = hashlib.sha256(ORIGIN.encode() + b"\n" + b"\xffchainarb/eip191-secp256k1"
                          + address).digest()[:4]
    assert raw[:4] == want == key_id(ORIGIN, SIGNER.address)
    assert SIGNATURE_TYPE == b"\xffchainarb/eip191-secp256k1"
    assert Account.recover_message(encode_defunct(primitive=cp.body().encode()),
                                   signature=raw[4:]) == SIGNER.address


def test_a_signer_that_returns_another_keys_signature_is_caught() -> None:
    liar = NoteSigner(SIGNER.address, OTHER.sign_message)
    with pytest.raises(InvalidSignature, match="another key"):
        sign_note("text\n", ORIGIN, liar)


@pytest.mark.parametrize("edit", ["size", "root", "extension"])
def test_an_edited_checkpoint_is_forged(log: MerkleLog, edit: str) -> None:
    note = sign_checkpoint(_checkpoint(log, 20), SIGNER)
    lines = note.split("\n")
    if edit == "size":
        lines[1] = "21"
    elif edit == "root":
        lines[2] = base64.b64encode(log.root(21)).decode()
    else:
        lines.insert(3, "an extension line added later")
    with pytest.raises(NoteForged, match="does not verify"):
        verify_checkpoint("\n".join(lines), [SIGNER.address], ORIGIN)


def test_a_checkpoint_of_another_log_is_refused(log: MerkleLog) -> None:
    other = Checkpoint("attacker.example/log", 20, log.root(20))
    note = sign_checkpoint(other, SIGNER)
    with pytest.raises(OriginMismatch, match=r"attacker\.example/log"):
        verify_checkpoint(note, [SIGNER.address], ORIGIN)
    # the origin line rewritten but the signature line left under the old name: no signature
    # under the new name, so nothing verifies
    renamed = note.replace("attacker.example/log\n", f"{ORIGIN}\n", 1)
    with pytest.raises(NoteUnsigned, match="no signature under key name"):
        verify_checkpoint(renamed, [SIGNER.address], ORIGIN)


def test_a_checkpoint_signed_by_another_key_is_unsigned(log: MerkleLog) -> None:
    note = sign_checkpoint(_checkpoint(log, 20), OTHER)
    with pytest.raises(NoteUnsigned, match="no signature under key name"):
        verify_checkpoint(note, [SIGNER.address], ORIGIN)


def test_another_key_posing_under_the_institutions_key_id_is_forged(log: MerkleLog) -> None:
    body = _checkpoint(log, 20).body()
    forged_sig = OTHER.sign(body.encode())
    line = "— " + ORIGIN + " " + base64.b64encode(key_id(ORIGIN, SIGNER.address)
                                                 + forged_sig).decode() + "\n"
    with pytest.raises(NoteForged, match="recovers " + OTHER.address):
        verify_checkpoint(body + "\n" + line, [SIGNER.address], ORIGIN)


def test_malformed_signature_under_an_accepted_key_is_forged(log: MerkleLog) -> None:
    body = _checkpoint(log, 20).body()
    line = "— " + ORIGIN + " " + base64.b64encode(key_id(ORIGIN, SIGNER.address)
                                                 + b"\x01" * 10).decode() + "\n"
    with pytest.raises(NoteForged, match="malformed"):
        verify_checkpoint(body + "\n" + line, [SIGNER.address], ORIGIN)


def test_key_rotation_and_cosignatures(log: MerkleLog) -> None:
    """After a rotation both keys are accepted; a witness's (unknown) signature, an Ed25519
    line and signatures of retired keys are ignored, as the spec requires."""
    cp = _checkpoint(log, 30)
    old = sign_checkpoint(cp, SIGNER)
    both = sign_note(Note.parse(old), ORIGIN, NEW_SIGNER)
    witnessed = sign_note(Note.parse(both), "witness.example/w1", OTHER)
    ed25519_line = SPEC_NOTE.split("\n\n")[-1]
    witnessed += ed25519_line
    accepted = [SIGNER.address, NEW_SIGNER.address]
    assert verify_checkpoint(witnessed, accepted, ORIGIN).signers == tuple(accepted)
    assert verify_checkpoint(old, accepted, ORIGIN).signers == (SIGNER.address,)
    assert verify_checkpoint(witnessed, [NEW_SIGNER.address]).signers == (NEW_SIGNER.address,)
    with pytest.raises(NoteUnsigned):
        verify_checkpoint(old, [NEW_SIGNER.address], ORIGIN)
    assert verify_note(witnessed, "witness.example/w1", [OTHER.address]).text == cp.body()


def test_the_specs_examples_parse() -> None:
    note = Note.parse(SPEC_NOTE)
    assert note.text.endswith("ed è subito sera.\n")
    assert note.signatures[0].name == "quasimodo.example/salvatore"
    assert note.format() == SPEC_NOTE
    with pytest.raises(NoteUnsigned):  # an Ed25519 key is not one of ours: ignored
        verify_note(SPEC_NOTE, "quasimodo.example/salvatore", [SIGNER.address])
    cp = Checkpoint.parse_body(Note.parse(SPEC_CHECKPOINT).text)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert cp.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.body() == SPEC_CHECKPOINT.split("\n\n")[0] + "\n"


ROOT_B64 = base64.b64encode(b"\x11" * 32).decode()
SIG = "— o AAAAAAAA\n"


@pytest.mark.parametrize(("note", "message"), [
    (f"o\n1\n{ROOT_B64}\n", "no blank line"),
    (f"o\n1\n{ROOT_B64}\n\n", "does not end in a newline"),
    (f"o\n1\n{ROOT_B64}\n\n— o AAAAAAAA", "does not end in a newline"),
    (f"o\n1\n{ROOT_B64}\r\n\n{SIG}", "control character"),
    (f"o\n1\n{ROOT_B64}\n\n- o AAAAAAAA\n", "is not '—"),
    (f"o\n1\n{ROOT_B64}\n\n— o AAAA\n", "fewer than a key ID"),
    (f"o\n1\n{ROOT_B64}\n\n— o AAAAAAA*\n", "is not '—"),
    (f"o\n1\n{ROOT_B64}\n\n— o AAAAAAA\n", "not base64"),
    (f"o\n1\n{ROOT_B64}\n\n— o+x AAAAAAAA\n", "is not '—"),
    (f"o\n1\n{ROOT_B64}\n\n" + SIG * 65, "more than 64"),
    ("x" * 70000, "more than 65536"),
])
def test_malformed_notes(note: str, message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        Note.parse(note)


def test_not_utf8() -> None:
    with pytest.raises(NoteFormatError, match="UTF-8"):
        Note.parse(b"o\n1\n\xff\n\n" + SIG.encode())


@pytest.mark.parametrize(("body", "message"), [
    ("o\n1\n", "at least 3 lines"),
    (f"o\n01\n{ROOT_B64}\n", "without leading zeros"),
    (f"o\n-1\n{ROOT_B64}\n", "without leading zeros"),
    (f"o\n9223372036854775808\n{ROOT_B64}\n", "exceeds 2\\*\\*63 - 1"),
    ("o\n1\nAAAA\n", "base64 of 32 bytes"),
    (f"o\n1\n{ROOT_B64[:-1]}\n", "not base64"),
    (f"o\n1\n{ROOT_B64}\n\n", "must be non-empty"),
    (f" o\n1\n{ROOT_B64}\n", "origin"),
    (f"{{o\n1\n{ROOT_B64}\n", "origin"),
    (f"a+b\n1\n{ROOT_B64}\n", "origin"),
    (f"o\x1b\n1\n{ROOT_B64}\n", "origin"),  # found by test_log_fuzz: a control character
])
def test_malformed_checkpoint_bodies(body: str, message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        Checkpoint.parse_body(body)


def test_non_canonical_base64_root_is_refused() -> None:
    root = base64.b64encode(b"\x11" * 32).decode()  # ends in "=": the last digit carries 2 bits
    loose = root[:-2] + chr(ord(root[-2]) + 1) + "="
    assert base64.b64decode(loose) == b"\x11" * 32  # a lax decoder accepts it
    with pytest.raises(NoteFormatError, match="base64 of 32 bytes"):
        Checkpoint.parse_body(f"o\n1\n{loose}\n")


def test_checkpoints_are_checked_when_built() -> None:
    with pytest.raises(NoteFormatError, match="origin"):
        Checkpoint("has space", 1, b"\x00" * 32)
    with pytest.raises(NoteFormatError, match="size"):
        Checkpoint("o", -1, b"\x00" * 32)
    with pytest.raises(NoteFormatError, match="root"):
        Checkpoint("o", 1, b"\x00" * 31)
    with pytest.raises(NoteFormatError, match="extension"):
        Checkpoint("o", 1, b"\x00" * 32, ("a\nb",))
    with pytest.raises(NoteFormatError, match="key name"):
        sign_note("text\n", "two words", SIGNER)
    with pytest.raises(NoteFormatError, match="end in a newline"):
        sign_note("text", ORIGIN, SIGNER)


def test_consistency_between_checkpoints(log: MerkleLog) -> None:
    a = verify_checkpoint(sign_checkpoint(_checkpoint(log, 13), SIGNER), [SIGNER.address])
    b = verify_checkpoint(sign_checkpoint(_checkpoint(log, 50), SIGNER), [SIGNER.address])
    verify_checkpoints_consistent(a, b, log.consistency_proof(13, 50))
    forked = MerkleLog.of([b"fork", *(i.to_bytes(8, "big") for i in range(1, 50))])
    c = Checkpoint(ORIGIN, 50, forked.root())
    with pytest.raises(ConsistencyProofError, match="second root"):
        verify_checkpoints_consistent(a, c, log.consistency_proof(13, 50))
    with pytest.raises(OriginMismatch):
        verify_checkpoints_consistent(a, Checkpoint("elsewhere", 50, log.root()),
                                      log.consistency_proof(13, 50))


def test_the_docs_example_checkpoint_verifies() -> None:
    """docs/log.md §6 shows a real signed checkpoint; it must stay one."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[3] / "docs/log.md").read_text()
    section = page.split("## 6. Checkpoints")[1]
    example = section.split("```\n")[1]
    signed = verify_checkpoint(example, ["0xdB00079cad3e665853Bf766eFe26F4C38cdbdCDA"],
                               "chainarb.example/log")
    tree = MerkleLog.of(i.to_bytes(8, "big") for i in range(1024))
    assert (signed.size, signed.root) == (1024, tree.root())
