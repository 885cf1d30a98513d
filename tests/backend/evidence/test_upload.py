"""Evidence upload through HTTP: the pipeline, its refusals, and nothing partial left."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import select

from backend.db import EvidenceItem, Leaf, Step
from backend.services.evidence import safe_filename
from evidence.commitment import commitment_of
from evidence.encryption import KeyWraps
from evidence.judicial.provenance import SignedProvenanceEntry, check_log
from tests.support.evidence import (
    PDF,
    PNG,
    blocks,
    filed_case,
    service,
    sha256,
    sign_staged,
    submit,
    upload,
)
from tests.support.world import World


def _items(world: World) -> list[EvidenceItem]:
    with world.app.state.ctx.sessions() as s:
        return list(s.exec(select(EvidenceItem)).all())


def test_upload_sign_submit_read(pg_world: World) -> None:
    w = pg_world
    case_id = filed_case(w)
    r = upload(w.buyer, PDF, filename="invoice.pdf", fields={"sha256": sha256(PDF)})
    assert r.status_code == 201, r.text
    staged = r.json()
    assert staged["status"] == "staged" and staged["mediaType"] == "application/pdf"
    assert staged["sha256"] == sha256(PDF) and staged["size"] == len(PDF)
    salt = bytes.fromhex(staged["salt"][2:])
    assert staged["commitment"] == "0x" + commitment_of(bytes.fromhex(sha256(PDF)[2:]),
                                                       salt).hex()
    assert w.blockstore.has(staged["contentCid"])  # the encrypted container, in IPFS
    # the container is not the plaintext
    stored = b"".join(f.read_bytes() for f in w.blockstore.root.rglob("*.data"))  # type: ignore[attr-defined]
    assert stored and PDF[:50] not in stored
    msg = staged["typedData"]["message"]
    assert msg["contentCid"] == staged["contentCid"] and msg["sequence"] == "1"

    done = submit(w.buyer, staged["id"], sign_staged(w.buyer, staged))
    assert done.status_code == 201, done.text
    out = done.json()
    assert out["status"] == "submitted" and out["sequence"] == 1
    # a step in the chain, with its leaf queued for anchoring
    with w.app.state.ctx.sessions() as s:
        step = s.exec(select(Step).where(Step.case_id == case_id, Step.sequence == 1)).one()
        assert step.kind == "evidence.submitted"
        assert step.record["message"]["commitment"] == staged["commitment"]
        assert s.exec(select(Leaf).where(Leaf.ref_id == step.id)).one().batch_id is None
    # the other party reads it (negotiation exchange), decrypted as it streams
    got = w.seller.get(f"/cases/{case_id}/evidence/{staged['id']}/content")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["x-evidence-sha256"] == sha256(PDF)
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in got.headers["content-disposition"]
    # provenance: every entry signed by the service, chained, bound to the item
    log = w.buyer.get(f"/cases/{case_id}/evidence/{staged['id']}/provenance").json()
    entries = [SignedProvenanceEntry.from_json_obj(e) for e in log["entries"]]
    assert [e.entry.action for e in entries] == [
        "upload.received", "file.inspected", "hash.computed", "commitment.made", "encrypted",
        "ipfs.stored", "record.signed"]
    assert entries[0].entry.subject == w.buyer.address
    assert entries[0].entry.session.startswith("auth-session:")
    assert check_log(entries, case_id=bytes.fromhex(case_id[2:]),
                     commitment=bytes.fromhex(staged["commitment"][2:]), domain=w.domain,
                     service=w.app.state.ctx.service.institution_address) == []
    # the service holds a wrap for itself only (no reader registered a key yet)
    kw = w.seller.get(f"/cases/{case_id}/evidence/{staged['id']}/keywraps").json()
    assert len(KeyWraps.from_json(kw["keywraps"]).stanzas) == 1


def test_client_hash_mismatch_refused_and_nothing_stored(world: World) -> None:
    filed_case(world)
    before = blocks(world)
    r = upload(world.buyer, PDF, fields={"sha256": sha256(PDF + b"x")})
    assert r.status_code == 409 and r.json()["code"] == "hash_mismatch", r.text
    assert blocks(world) == before and _items(world) == []


def test_client_salt_gives_client_commitment(world: World) -> None:
    filed_case(world)
    salt = "0x" + "ab" * 32
    r = upload(world.buyer, PDF, fields={"salt": salt})
    assert r.status_code == 201, r.text
    assert r.json()["commitment"] == "0x" + commitment_of(
        bytes.fromhex(sha256(PDF)[2:]), bytes.fromhex(salt[2:])).hex()


def test_oversized_upload_413_and_nothing_left(world: World) -> None:
    filed_case(world)
    service(world).max_upload_bytes = 3 * 2**20 + 5
    before = blocks(world)
    limit = 3 * 2**20 + 5
    big = (b"A line of a long text log.\n" * (limit // 27 + 400))[: limit + 9000]
    r = upload(world.buyer, big, filename="log.txt", content_type="text/plain")
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "upload_too_large"
    assert "upload limit of 3145733 bytes" in r.json()["detail"]
    assert blocks(world) == before and _items(world) == []
    # chunked transfer (no Content-Length): counted as it streams
    head = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"l.txt\"\r\n"
            b"\r\n")

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(8):
            yield b"x" * 2**19
        yield b"\r\n--b--\r\n"

    r = world.client.post(f"/cases/{world.case_id}/evidence", headers={
        **world.buyer.headers, "Content-Type": "multipart/form-data; boundary=b"},
        content=body())
    assert r.status_code == 413, r.text
    assert blocks(world) == before and _items(world) == []
    # a declared Content-Length far beyond the limit is refused before reading
    r = world.client.post(f"/cases/{world.case_id}/evidence", headers={
        **world.buyer.headers, "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(10 * 2**20)}, content=b"--x--\r\n")
    assert r.status_code == 413, r.text
    # exactly at the limit is fine
    service(world).max_upload_bytes = len(PDF)
    assert upload(world.buyer, PDF).status_code == 201


def test_empty_file_refused(world: World) -> None:
    filed_case(world)
    before = blocks(world)
    r = upload(world.buyer, b"", filename="empty.pdf")
    assert r.status_code == 422 and r.json()["code"] == "empty_file", r.text
    assert blocks(world) == before and _items(world) == []


def test_lying_content_type_is_sniffed_and_recorded(world: World) -> None:
    case_id = filed_case(world)
    r = upload(world.buyer, PNG, filename="contract.pdf", content_type="application/pdf",
               kind="photo")
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["mediaType"] == "image/png" and item["claimedMediaType"] == "application/pdf"
    log = world.buyer.get(f"/cases/{case_id}/evidence/{item['id']}/provenance").json()
    inspected = log["entries"][1]["entry"]
    assert inspected["action"] == "file.inspected"
    assert inspected["details"]["claimMismatch"] is True
    got = world.buyer.get(f"/cases/{case_id}/evidence/{item['id']}/content")
    assert got.headers["content-type"] == "image/png"


def test_disallowed_types_refused_whatever_they_claim(world: World) -> None:
    filed_case(world)
    before = blocks(world)
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 400
    zip_ = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 400
    binary = bytes(range(256)) * 4
    for content, name in ((exe, "photo.jpg"), (zip_, "docs.zip"), (binary, "data.txt")):
        r = upload(world.buyer, content, filename=name, content_type="image/jpeg")
        assert r.status_code == 415, (name, r.text)
        assert r.json()["code"] == "unsupported_media_type"
    assert blocks(world) == before and _items(world) == []


def test_path_traversal_filenames_are_neutralised(world: World) -> None:
    case_id = filed_case(world)
    for raw, want in (("../../etc/passwd", "passwd.txt"), ("..\\..\\boot.ini", "boot.txt"),
                      ("/abs/..", "evidence.txt"),
                      ("a\x00b\r\n.txt", "a_00b_0D_0A.txt"),  # httpx sends %00, %0D, %0A
                      ("....", "evidence.txt"), ("发票 2026.txt", "发票 2026.txt"),
                      ("x" * 300 + ".txt", "x" * 196 + ".txt")):
        r = upload(world.buyer, b"plain text evidence\n", filename=raw,
                   content_type="text/plain", kind="communication")
        assert r.status_code == 201, (raw, r.text)
        assert r.json()["filename"] == want, raw
        got = world.buyer.get(f"/cases/{case_id}/evidence/{r.json()['id']}/content")
        assert "/" not in got.headers["content-disposition"].split("filename*=")[1]
        assert got.headers["content-type"] == "text/plain; charset=utf-8"


def test_malformed_multipart_refused(world: World) -> None:
    case_id = filed_case(world)
    before = blocks(world)
    url = f"/cases/{case_id}/evidence"
    h = world.buyer.headers
    # not multipart at all
    r = world.client.post(url, headers={**h, "Content-Type": "application/pdf"}, content=PDF)
    assert r.status_code == 415 and r.json()["code"] == "expected_multipart", r.text
    # multipart without a boundary parameter
    r = world.client.post(url, headers={**h, "Content-Type": "multipart/form-data"},
                          content=PDF)
    assert r.status_code == 415, r.text
    # garbage where the parts should be
    r = world.client.post(url, headers={**h, "Content-Type": "multipart/form-data; boundary=b"},
                          content=b"this is not multipart at all\r\n" * 10)
    assert r.status_code in (400, 422) and r.json()["code"] == "malformed_multipart", r.text
    # truncated: the file part never ends (no closing boundary)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            b"Content-Type: application/pdf\r\n\r\n" + PDF)
    r = world.client.post(url, headers={**h, "Content-Type": "multipart/form-data; boundary=b"},
                          content=body)
    assert r.status_code == 422 and "truncated" in r.json()["detail"], r.text
    # no file part
    r = world.client.post(url, headers=h, data={"sha256": sha256(PDF)},
                          files={"other": ("a", b"x", "text/plain")})
    assert r.status_code == 422, r.text
    # two file parts
    body = b"".join(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n"
                    b"\r\n" + PDF + b"\r\n" for _ in range(2)) + b"--b--\r\n"
    r = world.client.post(url, headers={**h, "Content-Type": "multipart/form-data; boundary=b"},
                          content=body)
    assert r.status_code == 422 and "exactly one" in r.json()["detail"], r.text
    assert blocks(world) == before and _items(world) == []


def test_safe_filename_unit() -> None:
    txt = "text/plain"
    assert safe_filename("a\x00b\r\n\u202e.txt", txt) == "ab.txt"  # controls, bidi overrides
    assert safe_filename("../../.ssh/id_rsa", txt) == "id_rsa.txt"
    assert safe_filename("C:\\Windows\\..\\x.pdf", "application/pdf") == "x.pdf"
    assert safe_filename("", "application/pdf") == "evidence.pdf"
    assert safe_filename(".hidden", txt) == "hidden.txt"
    assert safe_filename("a<b>|c?.txt", txt) == "a_b__c_.txt"
    # the extension is the detected type's, never the client's
    assert safe_filename("photo.html", "image/jpeg") == "photo.jpg"
    assert safe_filename("x.pdf.exe", "application/pdf") == "x.pdf.pdf"
    assert len(safe_filename("é" * 300 + ".pdf").encode()) <= 200
