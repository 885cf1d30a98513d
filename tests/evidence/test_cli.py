"""`chainarb evidence …`: every command, its output on stdout, its exit code, and the bad
inputs (missing file, malformed CID, wrong key, tampered file -> exit 1 naming the check).

Exit codes (docs/evidence-cli.md): 0 ok, 1 verification failed, 2 usage/bad input,
3 could not run (missing component, node unreachable), 4 cannot be read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3 import Web3

from backend.chain.devchain import AnvilNode
from evidence.cli import app
from evidence.commitment import commitment_of, sha256_file
from evidence.records import SignedRecord
from tests.evidence.test_kubo import ipfs_node  # noqa: F401  (fixture: Helia serving the kubo RPC API)
from tests.evidence.test_verify import HELLO_CID, Scenario, build_scenario

BIN = Path(sys.executable).parent / "chainarb"
KUBO_V0 = {
    b"hello\n": "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN",
    b"": "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
}


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CHAINARB_LANG", "en")
    monkeypatch.setenv("CHAINARB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CHAINARB_CHAIN_RPC_URL", raising=False)
    monkeypatch.delenv("CHAINARB_PRIVATE_KEY", raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, code: int = 0):
        result = runner.invoke(app, ["evidence", *args], env=env)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr,
                                          result.exception)
        return result

    return invoke


# --- cid, hash ----------------------------------------------------------------------------


def test_cid_prints_the_cid_alone(run, tmp_path: Path) -> None:
    for data, cid in KUBO_V0.items():
        f = tmp_path / "f"
        f.write_bytes(data)
        assert run("cid", str(f)).stdout == cid + "\n"
    f.write_bytes(b"hello\n")
    assert run("cid", str(f), "--cid-version", "1").stdout == HELLO_CID + "\n"
    big = tmp_path / "big"
    big.write_bytes(bytes(i % 251 for i in range(1_000_000)))
    assert run("cid", str(big), "--progress").stdout.strip() == (
        "QmVUbzigHKQR2y8wSt2KwZp92AC9Utfms5nEUHwttK4Yq9")


def test_cid_bad_inputs(run, tmp_path: Path) -> None:
    r = run("cid", str(tmp_path / "missing.pdf"), code=2)
    assert "File not found" in r.stderr and r.stdout == ""
    run("cid", str(tmp_path), code=2)
    f = tmp_path / "f"
    f.write_bytes(b"x")
    run("cid", str(f), "--cid-version", "2", code=2)


def test_hash_and_commitment(run, tmp_path: Path) -> None:
    f = tmp_path / "invoice.pdf"
    f.write_bytes(b"invoice 4711\n")
    digest = sha256_file(f)
    assert run("hash", str(f)).stdout == digest.hex() + "\n"
    salt = os.urandom(32)
    out = run("hash", str(f), "--salt", "0x" + salt.hex()).stdout.strip()
    assert out == "0x" + commitment_of(digest, salt).hex()
    obj = json.loads(run("hash", str(f), "--commit").stdout)
    assert obj["sha256"] == "0x" + digest.hex()
    assert obj["commitment"] == "0x" + commitment_of(digest, bytes.fromhex(obj["salt"][2:])).hex()
    r = run("hash", str(f), "--salt", "0x1234", code=2)
    assert "--salt" in r.stderr and "32 bytes" in r.stderr
    run("hash", str(f), "--salt", "00" * 32, "--commit", code=2)


def test_hash_matches_openssl(run, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(os.urandom(300_000))
    ossl = subprocess.run(["openssl", "dgst", "-sha256", "-r", str(f)], capture_output=True,
                          text=True, check=True).stdout.split()[0]
    assert run("hash", str(f)).stdout.strip() == ossl


# --- sign ---------------------------------------------------------------------------------


def _unsigned(sc: Scenario, tmp_path: Path) -> Path:
    obj = SignedRecord(sc.domain, sc.signed.record).to_json_obj()
    path = tmp_path / "record.json"
    path.write_text(json.dumps(obj))
    return path


def test_sign_with_key_file_and_env(run, tester_w3: Web3, tmp_path: Path) -> None:
    sc = build_scenario(tester_w3, tmp_path)
    unsigned = _unsigned(sc, tmp_path)
    keyfile = tmp_path / "party.key"
    keyfile.write_text("0x" + bytes(sc.party.key).hex() + "\n")
    out = run("sign", str(unsigned), "--key-file", str(keyfile)).stdout
    assert SignedRecord.from_json(out.strip()) == sc.signed  # deterministic (RFC 6979)
    env = {"CHAINARB_PRIVATE_KEY": bytes(sc.party.key).hex()}
    dst = tmp_path / "signed.json"
    run("sign", str(unsigned), "-o", str(dst), env=env)
    assert SignedRecord.from_json(dst.read_bytes().strip()).verify() == (sc.party.address,)


def test_sign_keystore_file(run, tester_w3: Web3, tmp_path: Path) -> None:
    from eth_account import Account

    sc = build_scenario(tester_w3, tmp_path)
    ks = tmp_path / "keystore.json"
    ks.write_text(json.dumps(Account.encrypt(sc.party.key, "pw", iterations=2)))
    out = run("sign", str(_unsigned(sc, tmp_path)), "--key-file", str(ks),
              env={"CHAINARB_KEY_PASSWORD": "pw"}).stdout
    assert SignedRecord.from_json(out.strip()) == sc.signed
    r = run("sign", str(_unsigned(sc, tmp_path)), "--key-file", str(ks),
            env={"CHAINARB_KEY_PASSWORD": "wrong"}, code=2)
    assert "cannot open this keystore" in r.stderr and "wrong password" in r.stderr


def test_sign_refusals(run, tester_w3: Web3, tmp_path: Path) -> None:
    sc = build_scenario(tester_w3, tmp_path)
    unsigned = _unsigned(sc, tmp_path)
    r = run("sign", str(unsigned), code=2)
    assert "CHAINARB_PRIVATE_KEY" in r.stderr and "never" in r.stderr
    # a key that is not the record's submitter
    r = run("sign", str(unsigned), env={"CHAINARB_PRIVATE_KEY": "11" * 32}, code=2)
    assert "sign with the key of" in r.stderr
    r = run("sign", str(unsigned), env={"CHAINARB_PRIVATE_KEY": "abc"}, code=2)
    assert "32 bytes" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "chainarb.record", "v": 1}')
    run("sign", str(bad), env={"CHAINARB_PRIVATE_KEY": "11" * 32}, code=2)
    # no plain --private-key argument exists
    run("sign", str(unsigned), "--private-key", "11" * 32, code=2)


# --- encrypt, decrypt ---------------------------------------------------------------------


def _keys(run, tmp_path: Path, name: str) -> tuple[Path, str]:
    path = tmp_path / f"{name}.x25519"
    pub = run("keygen", "-o", str(path)).stdout.strip()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    return path, pub


def test_encrypt_decrypt_round_trip_for_each_recipient(run, tmp_path: Path) -> None:
    plain = tmp_path / "contract.pdf"
    plain.write_bytes(os.urandom(2_500_000))
    (k1, p1), (k2, p2) = _keys(run, tmp_path, "party"), _keys(run, tmp_path, "tribunal")
    enc = tmp_path / "contract.enc"
    summary = json.loads(run("encrypt", str(plain), "--to", p1, "--to", p2, "-o", str(enc)).stdout)
    assert summary["plaintextSha256"] == "0x" + sha256_file(plain).hex()
    assert Path(summary["wraps"]).is_file() and plain.read_bytes() not in enc.read_bytes()
    for key in (k1, k2):
        out = tmp_path / f"out-{key.stem}"
        res = json.loads(run("decrypt", str(enc), "--key", str(key), "-o", str(out)).stdout)
        assert out.read_bytes() == plain.read_bytes()
        assert res["plaintextSize"] == 2_500_000


def test_decrypt_wrong_key_and_tampered_file(run, tmp_path: Path) -> None:
    plain = tmp_path / "p"
    plain.write_bytes(os.urandom(100_000))
    k1, p1 = _keys(run, tmp_path, "a")
    k2, _ = _keys(run, tmp_path, "b")
    enc = tmp_path / "p.enc"
    run("encrypt", str(plain), "--to", p1, "-o", str(enc))
    out = tmp_path / "out"
    r = run("decrypt", str(enc), "--key", str(k2), "-o", str(out), code=2)
    assert "cannot decrypt" in r.stderr and "not among" in r.stderr and not out.exists()
    data = bytearray(enc.read_bytes())
    data[500] ^= 0x01
    enc.write_bytes(bytes(data))
    r = run("decrypt", str(enc), "--key", str(k1), "-o", str(out), code=1)
    assert "INTEGRITY CHECK FAILED" in r.stderr and "chunk 0" in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
    enc.write_bytes(bytes(data[:-10]))  # truncated
    run("decrypt", str(enc), "--key", str(k1), "-o", str(out), code=1)
    # the key wraps of another container
    enc2 = tmp_path / "q.enc"
    run("encrypt", str(plain), "--to", p1, "-o", str(enc2))
    r = run("decrypt", str(enc2), "--key", str(k1), "--wraps", str(tmp_path / "p.enc.keys.json"),
            "-o", str(out), code=2)
    assert "another container" in r.stderr and not out.exists()


def test_encrypt_bad_inputs(run, tmp_path: Path) -> None:
    plain = tmp_path / "p"
    plain.write_bytes(b"x")
    r = run("encrypt", str(plain), "--to", "0x1234", "-o", str(tmp_path / "o"), code=2)
    assert "--to" in r.stderr
    run("encrypt", str(tmp_path / "none"), "--to", "00" * 32, "-o", str(tmp_path / "o"), code=2)
    run("encrypt", str(plain), "-o", str(tmp_path / "o"), code=2)  # no recipient


# --- add, cat -------------------------------------------------------------------------------


def test_add_then_cat_from_the_local_store(run, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(bytes(i % 251 for i in range(1_000_000)))
    store = tmp_path / "store"
    cid = run("add", str(f), "--store", str(store)).stdout.strip()
    assert cid == "QmVUbzigHKQR2y8wSt2KwZp92AC9Utfms5nEUHwttK4Yq9"
    assert run("cat", cid, "--store", str(store)).stdout_bytes == f.read_bytes()
    out = tmp_path / "copy"
    run("cat", cid, "--store", str(store), "-o", str(out))
    assert out.read_bytes() == f.read_bytes()
    # default store: $CHAINARB_DATA_DIR/ipfs
    cid1 = run("add", str(f), "--cid-version", "1").stdout.strip()
    assert (tmp_path / "data" / "ipfs").is_dir()
    assert run("cat", cid1).stdout_bytes == f.read_bytes()


def test_cat_bad_inputs_and_corrupt_store(run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    r = run("cat", "Qm-not-a-cid", "--store", str(store), code=2)
    assert "Invalid input" in r.stderr
    r = run("cat", KUBO_V0[b""], "--store", str(store), code=4)
    assert "Not in the store" in r.stderr
    f = tmp_path / "f"
    f.write_bytes(b"hello\n")
    cid = run("add", str(f), "--store", str(store)).stdout.strip()
    (block,) = [p for p in (store / "blocks").rglob("*.data")]
    block.write_bytes(block.read_bytes().replace(b"hello", b"jello"))
    r = run("cat", cid, "--store", str(store), code=1)
    assert "INTEGRITY CHECK FAILED" in r.stderr and r.stdout == ""
    run("add", str(f), "--store", str(store), "--api", "http://127.0.0.1:9", code=2)


# --- prove, verify ----------------------------------------------------------------------------


@pytest.fixture
def anvil_sc(anvil_w3: Web3, tmp_path: Path) -> Scenario:
    return build_scenario(anvil_w3, tmp_path)


def _batch_files(sc: Scenario, tmp_path: Path) -> dict[str, Path]:
    dump = tmp_path / "batch.json"
    dump.write_bytes(sc.tree.dumps())
    rec = tmp_path / "record.json"
    rec.write_bytes(sc.signed.to_json())
    opening = tmp_path / "opening.json"
    opening.write_text(json.dumps(sc.opening.to_json_obj()))
    step = tmp_path / "step.json"
    step.write_bytes(sc.step.to_json())
    return {"dump": dump, "record": rec, "opening": opening, "step": step}


@pytest.mark.anvil
def test_prove_then_verify_over_rpc(run, anvil_sc: Scenario, anvil_node: AnvilNode,
                                    tmp_path: Path) -> None:
    sc, url = anvil_sc, anvil_node.url
    files = _batch_files(sc, tmp_path)
    proof = tmp_path / "item.proof.json"
    run("prove", "--batch", str(files["dump"]), "--record", str(files["record"]),
        "--opening", str(files["opening"]), "--contract", sc.anchor, "--chain-id", "31337",
        "-o", str(proof))
    r = run("verify", str(sc.file), "--proof", str(proof), "--rpc", url)
    assert "VERIFIED: every check passed" in r.stderr
    assert f"block {sc.block_number}" in r.stderr and sc.party.address in r.stderr
    assert "0x" + sc.tx_hash.hex() in r.stderr
    report = json.loads(run("verify", str(sc.file), "--proof", str(proof), "--json",
                            "--signer", sc.party.address, env={"CHAINARB_CHAIN_RPC_URL": url}
                            ).stdout)
    assert report["ok"] and report["anchoring"]["txHash"] == "0x" + sc.tx_hash.hex()
    # no --rpc: the embedded chain's node of the data dir, as the service records it
    node_json = tmp_path / "data" / "chain" / "node.json"
    node_json.parent.mkdir(parents=True)
    node_json.write_text(json.dumps({"pid": 1, "url": url, "owner": 1}))
    r = run("verify", str(sc.file), "--proof", str(proof))
    assert "embedded chain" in r.stderr and "VERIFIED" in r.stderr
    # tampered file: exit 1, names the check, expected vs found
    data = bytearray(sc.file.read_bytes())
    data[0] ^= 0xFF
    sc.file.write_bytes(bytes(data))
    r = run("verify", str(sc.file), "--proof", str(proof), "--rpc", url, code=1)
    assert "FAIL" in r.stdout and "file_hash" in r.stderr and "expected:" in r.stderr


@pytest.mark.anvil
def test_verify_record_and_wrong_signer_over_rpc(run, anvil_sc: Scenario,
                                                 anvil_node: AnvilNode, tmp_path: Path) -> None:
    sc, url = anvil_sc, anvil_node.url
    files = _batch_files(sc, tmp_path)
    records = tmp_path / "records.jsonl"  # the batch as signed records, one per line
    records.write_bytes(sc.signed.to_json() + b"\n" + sc.step.to_json() + b"\n")
    proof = tmp_path / "step.proof.json"
    idx = sc.tree.index_of(sc.step_proof().leaf)
    run("prove", "--batch", str(files["dump"]), "--index", str(idx), "--contract", sc.anchor,
        "--chain-id", "31337", "--tx", "0x" + sc.tx_hash.hex(), "-o", str(proof))
    r = run("verify", str(files["step"]), "--proof", str(proof), "--rpc", url)
    assert "signed record" in r.stderr and "ProceduralStep" in r.stderr
    r = run("verify", str(files["step"]), "--proof", str(proof), "--rpc", url,
            "--signer", sc.party.address, code=1)
    assert "signer_expected" in r.stderr
    # a batch of records whose root was never anchored: root_anchored fails
    other = tmp_path / "other.proof.json"
    run("prove", "--batch", str(records), "--record", str(files["step"]), "--contract",
        sc.anchor, "--chain-id", "31337", "-o", str(other))
    r = run("verify", "--proof", str(other), "--rpc", url, code=1)
    assert "root_anchored" in r.stderr


def test_verify_offline_and_bad_inputs(run, tester_w3: Web3, tmp_path: Path) -> None:
    sc = build_scenario(tester_w3, tmp_path)
    proof = tmp_path / "p.json"
    proof.write_bytes(sc.proof().to_json())
    r = run("verify", str(sc.file), "--proof", str(proof), code=2)
    assert "--rpc" in r.stderr and "--offline" in r.stderr
    r = run("verify", str(sc.file), "--proof", str(proof), "--offline")
    assert "anchoring was NOT checked" in r.stderr
    run("verify", str(tmp_path / "nope"), "--proof", str(proof), "--offline", code=2)
    run("verify", str(sc.file), "--proof", str(tmp_path / "nope"), "--offline", code=2)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run("verify", str(sc.file), "--proof", str(bad), "--offline", code=2)
    assert "proof file" in r.stderr
    r = run("verify", str(sc.file), "--proof", str(proof), "--rpc", "http://127.0.0.1:9",
            code=3)  # could not run: the node does not answer (not a failed check)
    assert r.stderr.startswith("Could not run: cannot reach the chain")
    # wrong salt given for a proof without opening: exit 1 at commitment
    bare = tmp_path / "bare.json"
    obj = sc.proof().to_json_obj()
    del obj["opening"]
    bare.write_text(json.dumps(obj))
    r = run("verify", str(sc.file), "--proof", str(bare), "--offline", code=2)
    assert "salt" in r.stderr
    r = run("verify", str(sc.file), "--proof", str(bare), "--offline", "--salt", "00" * 32,
            code=1)
    assert "commitment" in r.stderr


def test_prove_bad_inputs(run, tester_w3: Web3, tmp_path: Path) -> None:
    sc = build_scenario(tester_w3, tmp_path)
    files = _batch_files(sc, tmp_path)
    common = ["--contract", sc.anchor, "--chain-id", "1"]
    run("prove", "--batch", str(files["dump"]), *common, code=2)  # neither --record nor --index
    run("prove", "--batch", str(files["dump"]), "--index", "99", *common, code=2)
    r = run("prove", "--batch", str(files["dump"]), "--index", "0", "--contract", "0x12",
            "--chain-id", "1", code=2)
    assert "40 hex digits" in r.stderr
    lone = tmp_path / "lone.jsonl"
    lone.write_bytes(sc.step.to_json() + b"\n")
    r = run("prove", "--batch", str(lone), "--record", str(files["record"]), *common, code=2)
    assert "not in the batch" in r.stderr


def test_messages_in_chinese(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINARB_LANG", "zh")
    r = run("cid", str(tmp_path / "missing"), code=2)
    assert "找不到文件" in r.stderr
    monkeypatch.delenv("CHAINARB_LANG")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert "找不到文件" in run("hash", str(tmp_path / "missing"), code=2).stderr
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert "File not found" in run("hash", str(tmp_path / "missing"), code=2).stderr


def test_installed_entry_point_pipes_cleanly(tmp_path: Path) -> None:
    """The real `chainarb` binary in a pipe: the CID alone on stdout, nothing else."""
    f = tmp_path / "hello.txt"
    f.write_bytes(b"hello\n")
    out = subprocess.run([str(BIN), "evidence", "cid", str(f)], capture_output=True, text=True)
    assert (out.returncode, out.stdout, out.stderr) == (0, KUBO_V0[b"hello\n"] + "\n", "")


def test_usage_errors_exit_2(run) -> None:
    run("cid", code=2)
    run("cid", "a", "b", code=2)
    run("verify", "--rpc", "http://127.0.0.1:9", code=2)  # no --proof


@pytest.mark.node
def test_add_and_cat_through_a_kubo_rpc_node(run, ipfs_node, tmp_path: Path) -> None:  # noqa: F811
    f = tmp_path / "f"
    f.write_bytes(bytes(i % 251 for i in range(1_000_000)))
    cid = run("add", str(f), "--api", ipfs_node.url, "--progress").stdout.strip()
    assert cid == "QmVUbzigHKQR2y8wSt2KwZp92AC9Utfms5nEUHwttK4Yq9"
    assert run("cat", cid, "--api", ipfs_node.url).stdout_bytes == f.read_bytes()
    cid1 = run("add", str(f), "--api", ipfs_node.url, "--cid-version", "1").stdout.strip()
    assert cid1 == "bafybeibx62obrkybp46hx3ivh53q4rnptgkunpgtwiib5lfelfgt2ekihm"
    r = run("add", str(f), "--api", "http://127.0.0.1:9", code=3)  # could not run
    assert "IPFS node error" in r.stderr and "cannot reach" in r.stderr
    run("cat", cid, "--api", "http://127.0.0.1:9", code=3)


def test_missing_component_exits_3(run, tester_w3: Web3, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sc = build_scenario(tester_w3, tmp_path)
    proof = tmp_path / "p.json"
    proof.write_bytes(sc.proof().to_json())
    monkeypatch.setitem(sys.modules, "web3", None)  # as if web3 were not installed
    r = run("verify", str(sc.file), "--proof", str(proof), "--rpc", "http://127.0.0.1:9",
            code=3)
    assert "component is missing" in r.stderr and "pip install" in r.stderr


def test_prove_takes_the_opening_as_hash_commit_prints_it(run, tester_w3: Web3,
                                                          tmp_path: Path) -> None:
    sc = build_scenario(tester_w3, tmp_path)
    files = _batch_files(sc, tmp_path)
    # what `hash FILE --commit` prints: the opening plus its commitment
    printed = json.loads(run("hash", str(sc.file), "--commit").stdout)
    assert set(printed) == {"salt", "sha256", "commitment"}
    ours = {**sc.opening.to_json_obj(), "commitment": "0x" + sc.opening.commitment.hex()}
    opening = tmp_path / "opening-commit.json"
    opening.write_text(json.dumps(ours))
    proof = tmp_path / "p.json"
    common = ["--batch", str(files["dump"]), "--record", str(files["record"]),
              "--contract", sc.anchor, "--chain-id", str(sc.chain_id)]
    run("prove", *common, "--opening", str(opening), "-o", str(proof))
    assert "VERIFIED OFFLINE" in run("verify", str(sc.file), "--proof", str(proof),
                                     "--offline").stderr
    opening.write_text(json.dumps({**ours, "commitment": "0x" + "00" * 32}))
    r = run("prove", *common, "--opening", str(opening), code=2)
    assert "does not match" in r.stderr
    # a commitment that is not text (a number, an object): the same refusal, no traceback
    for wrong in (123, {"x": 1}):
        opening.write_text(json.dumps({**ours, "commitment": wrong}))
        r = run("prove", *common, "--opening", str(opening), code=2)
        assert "does not match" in r.stderr and "Traceback" not in r.stderr


def test_output_into_a_missing_directory_and_unsupported_cid(run, tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x")
    _, pub = _keys(run, tmp_path, "k")
    r = run("encrypt", str(f), "--to", pub, "-o", str(tmp_path / "nope" / "out"), code=2)
    assert "Output directory does not exist" in r.stderr
    # a well-formed CIDv1 whose hash is not sha2-256 (identity multihash) cannot be checked
    r = run("cat", "bafkqaaa", "--store", str(tmp_path / "s"), code=2)
    assert "Invalid input" in r.stderr
