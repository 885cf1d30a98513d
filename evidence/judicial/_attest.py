"""The institution's attestation of a package: an EIP-712 signature over SHA256SUMS.

Why: SHA256SUMS fixes every file of the package; its SHA-256 is the *package digest*
shown (and QR-encoded) on the certificate. The institution signs that digest, so a
package whose files were edited and re-summed no longer carries the institution's
signature. The attestation adds attribution, not trust: every claim is still checked
against the signed records and the chain.

    JudicialPackage(bytes32 caseId,bytes32 checksumsHash,uint64 createdAt)
"""

from __future__ import annotations

from collections.abc import Mapping

from eth_account.messages import _hash_eip191_message, encode_typed_data

from evidence.records import Domain, Eip712Field, TypedData

ATTESTATION_TYPE: list[Eip712Field] = [
    {"name": "caseId", "type": "bytes32"},
    {"name": "checksumsHash", "type": "bytes32"},
    {"name": "createdAt", "type": "uint64"},
]


def attestation_typed_data(
    domain: Domain, case_id: bytes, checksums_hash: bytes, created_at: int
) -> TypedData:
    return {
        "types": {"EIP712Domain": Domain.TYPE, "JudicialPackage": ATTESTATION_TYPE},
        "primaryType": "JudicialPackage",
        "domain": domain.as_dict(),
        "message": {
            "caseId": "0x" + case_id.hex(),
            "checksumsHash": "0x" + checksums_hash.hex(),
            "createdAt": created_at,
        },
    }


def attestation_digest(typed: Mapping[str, object]) -> bytes:
    """The digest of an attestation's typed data, ours or one read from a package (the
    encoder refuses a malformed one)."""
    return bytes(_hash_eip191_message(encode_typed_data(full_message=dict(typed))))
