"""RFC 3161 tokens from a real local `openssl ts` authority, checked by us and by openssl."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from evidence import timestamp
from evidence.errors import EvidenceError, FormatError
from evidence.timestamp import (
    TimestampInvalid,
    TimestampRejected,
    TimestampRequestError,
    build_request,
    load_certificates,
    parse_response,
    request_timestamp,
    verify_token,
)
from tests.support.tsa import LocalTSA, start_tsa

DIGEST = hashlib.sha256(b"merkle root 0x01").digest()


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    with start_tsa(tmp_path_factory.mktemp("tsa")) as authority:
        yield authority


@pytest.fixture(scope="module")
def token(tsa: LocalTSA) -> bytes:
    return request_timestamp(tsa.url, DIGEST)


def _write(tmp_path: Path, der: bytes) -> Path:
    path = tmp_path / "t.tsr"
    path.write_bytes(der)
    return path


def test_token_verifies_against_ca_and_tsa_cert_and_openssl_agrees(
    tsa: LocalTSA, token: bytes, tmp_path: Path
) -> None:
    info = verify_token(token, DIGEST, trusted=tsa.ca_pem.read_bytes())
    assert info.digest == DIGEST
    assert info.hash_algorithm == "sha256"
    assert info.policy == "1.3.6.1.4.1.57264.1.1"
    assert "chainarb test TSA" in (info.signer_subject or "")
    assert info.gen_time.tzinfo is not None
    # Trusting the TSA certificate itself is enough too.
    same = verify_token(token, DIGEST, trusted=load_certificates(tsa.tsa_pem.read_bytes()))
    assert same.serial_number == info.serial_number
    proc = tsa.openssl_verify(_write(tmp_path, token), DIGEST.hex())
    assert proc.returncode == 0, proc.stderr
    assert "Verification: OK" in proc.stdout


def test_rsa_authority(tmp_path: Path) -> None:
    with start_tsa(tmp_path / "rsa", key="rsa") as rsa_tsa:
        der = request_timestamp(rsa_tsa.url, DIGEST)
        info = verify_token(der, DIGEST, trusted=rsa_tsa.ca_pem.read_bytes())
        assert info.digest == DIGEST
        assert rsa_tsa.openssl_verify(_write(tmp_path, der), DIGEST.hex()).returncode == 0


def test_request_is_der_with_nonce_and_cert_req() -> None:
    from asn1crypto import tsp

    req = tsp.TimeStampReq.load(build_request(DIGEST, nonce=42))
    assert req["nonce"].native == 42
    assert req["cert_req"].native is True
    assert req["message_imprint"]["hashed_message"].native == DIGEST
    with pytest.raises(FormatError, match="32-byte"):
        build_request(b"\x00" * 20)


def test_token_for_another_hash_is_refused_by_both(
    tsa: LocalTSA, token: bytes, tmp_path: Path
) -> None:
    other = hashlib.sha256(b"another root").digest()
    with pytest.raises(TimestampInvalid) as exc:
        verify_token(token, other, trusted=tsa.ca_pem.read_bytes())
    assert exc.value.check == "message_imprint"
    assert tsa.openssl_verify(_write(tmp_path, token), other.hex()).returncode != 0


def test_flipped_signature_is_refused_by_both(tsa: LocalTSA, token: bytes, tmp_path: Path) -> None:
    # The SignerInfo's signature OCTET STRING is the last thing in the response.
    bad = token[:-1] + bytes([token[-1] ^ 0x01])
    with pytest.raises(TimestampInvalid) as exc:
        verify_token(bad, DIGEST, trusted=tsa.ca_pem.read_bytes())
    assert exc.value.check == "signature"
    assert tsa.openssl_verify(_write(tmp_path, bad), DIGEST.hex()).returncode != 0


def test_edited_gen_time_is_refused_by_both(tsa: LocalTSA, token: bytes, tmp_path: Path) -> None:
    info = parse_response(token)
    stamp = info.gen_time.strftime("%Y%m%d%H%M%S").encode()
    assert token.count(stamp) == 1
    year = stamp[:4]
    bad = token.replace(stamp, str(int(year) - 1).encode() + stamp[4:])
    with pytest.raises(TimestampInvalid) as exc:
        verify_token(bad, DIGEST, trusted=tsa.ca_pem.read_bytes())
    assert exc.value.check == "signed_attributes"
    assert tsa.openssl_verify(_write(tmp_path, bad), DIGEST.hex()).returncode != 0


def test_token_from_an_untrusted_authority_is_refused(
    tsa: LocalTSA, token: bytes, tmp_path: Path
) -> None:
    with start_tsa(tmp_path / "other") as other:
        with pytest.raises(TimestampInvalid) as exc:
            verify_token(token, DIGEST, trusted=other.ca_pem.read_bytes())
        assert exc.value.check == "trust"
        path = _write(tmp_path, token)
        proc = other.openssl_verify(path, DIGEST.hex())
        assert proc.returncode != 0


def test_wrong_nonce(tsa: LocalTSA, token: bytes) -> None:
    with pytest.raises(TimestampInvalid) as exc:
        verify_token(token, DIGEST, trusted=tsa.ca_pem.read_bytes(), nonce=7)
    assert exc.value.check == "nonce"


def test_rejection_is_reported(tsa: LocalTSA) -> None:
    with pytest.raises(TimestampRejected, match="rejection"):
        request_timestamp(tsa.reject_url, DIGEST)


def test_unreachable_authority() -> None:
    with pytest.raises(TimestampRequestError, match="could not be reached"):
        request_timestamp("http://127.0.0.1:9/", DIGEST, timeout=2)


@pytest.mark.parametrize("garbage", [b"", b"\x30\x03\x02\x01\x00", b"not der at all" * 10])
def test_garbage_is_a_format_error(tsa: LocalTSA, garbage: bytes) -> None:
    with pytest.raises(TimestampInvalid) as exc:
        verify_token(garbage, DIGEST, trusted=tsa.ca_pem.read_bytes())
    assert exc.value.check == "format"
    assert isinstance(exc.value, EvidenceError)


def test_unknown_key_algorithm_oid_is_a_format_error(tsa: LocalTSA, token: bytes) -> None:
    """One flipped bit shortens the certificate's ecPublicKey OID (1.2.840.10045.2.1) to
    1.2.840.10045.2, which asn1crypto answers with a bare KeyError: still a malformed
    token, not a crash (found by tests/judicial/test_judicial_mutations.py)."""
    oid = b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"
    at = token.find(oid)
    assert at >= 0, "the test authority signs with an EC key"
    damaged = bytearray(token)
    damaged[at + 1] ^= 1  # length 7 -> 6
    with pytest.raises(TimestampInvalid) as exc:
        verify_token(bytes(damaged), DIGEST, trusted=tsa.ca_pem.read_bytes())
    assert exc.value.check == "format"


def test_a_token_read_again_gives_the_same_answers(tsa: LocalTSA, token: bytes) -> None:
    """Tokens are parsed once per bytes (evidence.timestamp keeps the parsed ones): a second
    reading of equal bytes answers as the first did, a refusal is made again with the same
    message, and the kept parse carries no verdict from one check to the next."""
    trusted = tsa.ca_pem.read_bytes()
    first = verify_token(token, DIGEST, trusted=trusted)
    again = verify_token(bytes(bytearray(token)), DIGEST, trusted=trusted)  # equal, not same
    assert again == first
    assert parse_response(bytes(bytearray(token))) == parse_response(token)
    with pytest.raises(TimestampInvalid) as other:
        verify_token(token, hashlib.sha256(b"another root").digest(), trusted=trusted)
    assert other.value.check == "message_imprint"
    damaged = bytearray(token)
    damaged[token.find(b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01") + 1] ^= 1
    refusals = []
    for _ in range(2):
        with pytest.raises(TimestampInvalid) as exc:
            verify_token(bytes(damaged), DIGEST, trusted=trusted)
        refusals.append((exc.value.check, str(exc.value)))
    assert refusals[0] == refusals[1]
    assert refusals[0][0] == "format"
    assert verify_token(token, DIGEST, trusted=trusted) == first


def test_certificate_without_timestamping_usage_is_refused(tsa: LocalTSA) -> None:
    from evidence.timestamp import _check_tsa_certificate

    ca = load_certificates(tsa.ca_pem.read_bytes())[0]
    with pytest.raises(TimestampInvalid) as exc:
        _check_tsa_certificate(ca, ca.not_valid_before_utc)
    assert exc.value.check == "certificate"
    tsa_cert = load_certificates(tsa.tsa_pem.read_bytes())[0]
    with pytest.raises(TimestampInvalid) as exc:
        _check_tsa_certificate(tsa_cert, tsa_cert.not_valid_after_utc.replace(year=2999))
    assert exc.value.check == "gen_time"


def test_authority_under_an_intermediate_ca(tmp_path: Path) -> None:
    """A TSA certified by an intermediate CA; the court trusts only the root."""
    import httpx

    with start_tsa(tmp_path / "int", intermediate=True) as tsa:
        der = request_timestamp(tsa.url, DIGEST)  # the token carries TSA + intermediate
        root = tsa.ca_pem.read_bytes()
        info = verify_token(der, DIGEST, trusted=root)
        assert info.digest == DIGEST
        assert tsa.openssl_verify(_write(tmp_path, der), DIGEST.hex()).returncode == 0
        # Trusting only the intermediate is enough too.
        inter = load_certificates((tsa.dir / "int.pem").read_bytes())
        verify_token(der, DIGEST, trusted=inter)

        # A token without certificates (certReq false): the chain comes from the caller.
        bare = httpx.post(
            tsa.url,
            content=build_request(DIGEST, cert_req=False),
            headers={"Content-Type": "application/timestamp-query"},
        ).content
        with pytest.raises(TimestampInvalid) as exc:
            verify_token(bare, DIGEST, trusted=root)
        assert exc.value.check == "signature"
        chain = load_certificates(tsa.chain_pem.read_bytes())
        assert verify_token(bare, DIGEST, trusted=root, intermediates=chain).digest == DIGEST
        # An intermediate that is not a CA cannot link the chain (the TSA cert itself).
        tsa_only = load_certificates(tsa.tsa_pem.read_bytes())
        with pytest.raises(TimestampInvalid) as exc:
            verify_token(bare, DIGEST, trusted=root, intermediates=tsa_only)
        assert exc.value.check == "trust"


def test_requests_without_a_client_share_httpx_s_default_tls_context(
        tsa: LocalTSA, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client made per request takes the one TLS context made once (~20 ms of CPU each
    otherwise), which checks certificates and host names as httpx's default does."""
    verify: list[object] = []
    real = httpx.Client

    def client(*args: Any, **kwargs: Any) -> httpx.Client:
        verify.append(kwargs.get("verify"))
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", client)
    for _ in range(2):
        parse_response(request_timestamp(tsa.url, DIGEST))
    assert len(verify) == 2 and verify[0] is verify[1] is timestamp._tls_context()
    context = timestamp._tls_context()
    default = httpx.create_ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert (context.verify_mode, context.check_hostname, context.options,
            context.minimum_version) == (default.verify_mode, default.check_hostname,
                                         default.options, default.minimum_version)
    assert context.cert_store_stats() == default.cert_store_stats()
