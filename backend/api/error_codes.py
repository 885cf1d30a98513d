"""Every error code the HTTP API answers with, declared once as data.

An error answer is ``{"code": ..., "detail": ...}`` with the HTTP status below. The
"Errors" table of docs/api.md is this mapping (``tests/backend/api/test_error_codes.py``
checks they are equal), and a run of the whole test suite fails when a code listed here
is never produced by any test, or a test sees a code (or an error without one) that is not
listed (``tests/error_code_recorder.py``). To add a code: raise it where it happens, add
one line here and one row to the table (both sorted by code).

One code, one status: the client branches on the code; the status is the HTTP class.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["ERROR_CODES", "ErrorCode", "markdown_table"]


@dataclass(frozen=True)
class ErrorCode:
    status: int
    meaning: str


_E = ErrorCode

ERROR_CODES = MappingProxyType({
    "absence_range_too_large": _E(422, "a proof of absence over more than 100,000 log entries: "
                                       "split the range"),
    "access_denied": _E(403, "signed in, but this role may not do or see this"),
    "active_content": _E(415, "an evidence upload whose bytes are markup or script a browser "
                              "could run (HTML, SVG, XML, JavaScript)"),
    "advance_above_cap": _E(409, "an advance refund above the cap: what the order's amount "
                                 "leaves after earlier advances, or what the seller's guarantee "
                                 "holds, whichever is less"),
    "advance_deadline_not_missed": _E(409, "an advance refund before the seller has missed the "
                                           "order's delivery deadline"),
    "advance_not_in_dispute": _E(409, "an advance refund for an order that is not in dispute on "
                                      "the escrow (not yet disputed, or resolved)"),
    "advance_not_in_terms": _E(409, "an advance refund the order's contract of sale does not "
                                    "provide for (no bound contract, or its rules version has "
                                    "no advance refund)"),
    "advance_wrong_token": _E(422, "an advance refund naming another token than the order's"),
    "already_submitted": _E(409, "this evidence upload is already submitted as a step"),
    "auth_required": _E(401, "no session token, or an unknown, expired or revoked one"),
    "award_missing": _E(422, "an award step without its signed Award attachment"),
    "bad_json": _E(422, "the body is not JSON (truncated, trailing bytes, not UTF-8)"),
    "bad_payload": _E(422, "the payload of a step to prepare does not fit its action"),
    "bad_submission": _E(422, "well-formed JSON that does not fit the request"),
    "bad_tree_sizes": _E(422, "a log proof from a larger tree size to a smaller one"),
    "batch_refused": _E(400, "a JSON-RPC batch sent to the pages' chain relay (one call per "
                             "request)"),
    "block_not_found": _E(503, "a block the database names is missing from the blockstore"),
    "body_too_deep": _E(422, "a JSON body nested deeper than 64 levels (refused before "
                             "parsing)"),
    "body_too_large": _E(413, "a request body over the limit (JSON bodies: 16 MiB)"),
    "case_closed": _E(409, "the case is closed: no further step"),
    "case_not_absent": _E(409, "a proof of absence asked for a case that has log entries "
                               "between the two checkpoints"),
    "chain_unavailable": _E(503, "the chain node did not answer a read (a party's orders); "
                                 "nothing changed: retry"),
    "chain_unreachable": _E(502, "the chain relay's node did not answer, or gave no JSON-RPC "
                                 "answer"),
    "clock_skew": _E(422, "signedAt in the future, or before the previous step's"),
    "commit_failed": _E(503, "the shared transaction of a group of steps failed; nothing of "
                             "it stored: send the same record again"),
    "commitment_mismatch": _E(422, "the signed record names another commitment or CID than "
                                   "the upload"),
    "conflict": _E(409, "the request conflicts with the current state"),
    "conflict_of_interest": _E(422, "the appointee or court takes part in the case"),
    "contract_no_order": _E(409, "no escrow order binds this contract of sale yet (the buyer "
                                 "opens it with openOrderWithContract)"),
    "contract_offer_expired": _E(409, "the contract of sale's offer expired (offerExpiresAt): "
                                      "propose a new one"),
    "contract_one_sided": _E(409, "only one of the buyer and the seller signed the contract of "
                                  "sale"),
    "contract_price_mismatch": _E(409, "the escrow order's amount or token differs from the "
                                       "contract of sale's price"),
    "contract_terms_mismatch": _E(409, "the escrow order's buyer, seller, institution, delivery "
                                       "deadline or rules differ from the contract of sale's"),
    "contract_unsigned": _E(409, "neither the buyer nor the seller signed the contract of sale"),
    "contract_wrong_domain": _E(422, "the contract of sale is signed for another chain or escrow "
                                     "(EIP-712 domain)"),
    "contract_wrong_signer": _E(403, "a signature on the contract of sale by someone other than "
                                     "its buyer or seller"),
    "corrupt_block": _E(503, "a stored block no longer hashes to its CID"),
    "database_unavailable": _E(503, "the database connection dropped or was refused"),
    "deadline_passed": _E(409, "the step's deadline has passed (e.g. the seller's receipt "
                               "after the return's receipt window)"),
    "document_mismatch": _E(422, "the document's SHA-256 is not the one the record signs"),
    "draw_block_mismatch": _E(422, "a jury draw naming a blockHash or prevrandao other than the "
                                   "anchoring chain's for its drawBlock"),
    "draw_block_not_future": _E(422, "a jury seed commitment whose drawBlock is not in the "
                                     "anchoring chain's future"),
    "draw_block_pending": _E(409, "a jury draw before its drawBlock exists on the anchoring "
                                  "chain: draw after it"),
    "duplicate_action": _E(409, "this act was already taken (an offer id used twice, ...)"),
    "empty_file": _E(422, "an empty upload (0 bytes); nothing stored"),
    "escrow_not_resolved": _E(409, "a package of a case closed for litigation whose escrow "
                                   "has not refunded the buyer yet"),
    "evidence_not_uploaded": _E(409, "an EvidenceSubmission no upload of its signer in this "
                                     "case backs"),
    "expected_json": _E(415, "a JSON route was sent another Content-Type"),
    "expected_multipart": _E(415, "an evidence upload not sent as multipart/form-data"),
    "file_withheld": _E(403, "a file put before the jury that the rule for files withholds "
                         "from jurors (it names a party, or is of a kind not shown): the "
                         "juror view gives the reason"),
    "format": _E(422, "a record or document that does not follow its documented format "
                      "(docs/evidence.md): the detail names what"),
    "hash_mismatch": _E(409, "the client's SHA-256 differs from the bytes received"),
    "internal_error": _E(500, "anything unexpected; the answer and the log line carry one "
                              "request id"),
    "invalid_address": _E(422, "not a 20-byte hex address (or a bad EIP-55 checksum)"),
    "invalid_allocation": _E(422, "amounts that do not add up to the escrowed order"),
    "invalid_clock": _E(500, "the service's clock is before the case's stage began: the "
                            "server's bug or a clock set back, never the caller's"),
    "invalid_command": _E(422, "a step the procedure cannot take as given"),
    "invalid_field": _E(422, "a field missing, extra, of the wrong type or past its bound; "
                             "detail names each field, never echoing the input"),
    "invalid_json": _E(400, "a body to the chain relay that is not one JSON-RPC 2.0 call object"),
    "invalid_record": _E(422, "a signed record that does not parse as its type"),
    "invalid_signature": _E(400, "a signature that does not verify"),
    "malformed_multipart": _E(422, "a multipart body that is malformed, truncated or has "
                                   "unknown parts"),
    "malleable_signature": _E(400, "a signature with a high s value (EIP-2: only the low "
                                   "form is accepted)"),
    "method_not_allowed": _E(405, "the route exists, not with this HTTP method"),
    "method_refused": _E(403, "a JSON-RPC method the chain relay does not forward (it forwards "
                              "reads and signed raw transactions only)"),
    "no_chain": _E(503, "the service has no chain for the pages' relay to forward to"),
    "no_checkpoint_yet": _E(404, "the log has no signed checkpoint yet (one is signed at the "
                                 "next anchoring round)"),
    "not_a_return_award": _E(422, "an award or offer with a fallback (a ReturnAward or "
                                  "ReturnSettlement) that is no return and refund: its refund "
                                  "gives the buyer nothing, or its fallback equals the refund"),
    "not_anchored_yet": _E(409, "the package waits for records to be anchored, or no anchored "
                                "log checkpoint covers the entry yet: retry later"),
    "not_found": _E(404, "no such case, step, item, court, judicial package or route"),
    "not_the_pre_evaluation": _E(422, "a fast-track proposal other than the rule-based "
                                       "pre-evaluation of the evidence as recorded now"),
    "package_unavailable": _E(503, "a judicial package cannot be built here (no chain, "
                                   "no timestamp authority)"),
    "payload_mismatch": _E(422, "the payload's hash is not the record's payloadHash"),
    "payload_missing": _E(422, "a step whose payload is required was sent without it"),
    "pool_snapshot_mismatch": _E(422, "a jury seed commitment whose pool snapshot is not the one "
                                      "the service computes (GET /cases/{id}/jury/snapshot)"),
    "reasons_mismatch": _E(422, "the reasons' SHA-256 is not the record's reasonsHash"),
    "replay": _E(409, "a record or attachment signed for another case, order or "
                      "deployment"),
    "seed_not_anchored": _E(409, "a jury draw whose seed commitment is not anchored on the "
                                 "anchoring chain before the drawBlock"),
    "settlement_signature_missing": _E(422, "an offer without the offeror's signed "
                                            "Settlement"),
    "sign_in_refused": _E(401, "a sign-in message or signature that does not prove the "
                               "wallet"),
    "stale_sequence": _E(409, "another step took this position: reload and sign again"),
    "storage_full": _E(507, "the blockstore's (or SQLite's) file system has no space left"),
    "storage_read_only": _E(503, "the blockstore's (or SQLite's) file system is read-only"),
    "storage_unavailable": _E(503, "another I/O error of the blockstore; the kubo node does "
                                   "not answer"),
    "unknown_action": _E(422, "an action the service does not know"),
    "unknown_log_entry": _E(404, "no log entry at that index (or in that tree), or none names "
                                 "that record hash"),
    "unknown_offer": _E(404, "no such offer (or withdrawn, or expired)"),
    "unknown_package": _E(409, "a court decision naming a package never exported to that "
                               "court for this case"),
    "unknown_tree_size": _E(404, "no signed checkpoint of the log has that tree size"),
    "unsupported_media_type": _E(415, "a file type evidence may not have (archives, HTML, "
                                      "executables, ...)"),
    "unsupported_version": _E(422, "a record signed under another version of the signing "
                                   "domain or record format"),
    "upload_too_large": _E(413, "an upload over CHAINARB_MAX_UPLOAD_BYTES; nothing stored"),
    "use_evidence_upload": _E(422, "evidence is prepared by uploading it, not by "
                                   "/steps/prepare"),
    "webhook_event_refused": _E(403, "a webhook whose event type its sender is not configured "
                                     "to send (CHAINARB_WEBHOOK_SENDERS events); logged"),
    "webhook_forged": _E(401, "a webhook whose signature is not its sender's over this "
                              "timestamp and body (or is not hex); logged"),
    "webhook_malformed": _E(422, "a correctly signed webhook whose body is not an event "
                                 "(docs/performance-evidence.md); logged"),
    "webhook_out_of_order": _E(409, "a webhook whose sequence is not above its shipment's last "
                                    "accepted one; logged"),
    "webhook_replayed": _E(409, "a webhook whose event id its sender already had recorded; "
                                "never recorded twice; logged"),
    "webhook_stale": _E(401, "a webhook signed outside its sender's timestamp window "
                             "(window_seconds); logged"),
    "webhook_too_large": _E(413, "a webhook body over 16 KiB (one event); logged"),
    "webhook_unknown_order": _E(404, "a signed webhook naming an order the escrow does not "
                                     "hold; logged"),
    "webhook_unknown_sender": _E(401, "POST /webhooks/{sender} for a sender not configured in "
                                      "CHAINARB_WEBHOOK_SENDERS; logged"),
    "webhook_unsigned": _E(401, "a webhook without its Chainarb-Timestamp or Chainarb-Signature "
                                "header; logged"),
    "wrong_actor": _E(403, "this signer may not take this step (the return steps: the order's "
                           "buyer ships back, its seller confirms or disputes the receipt, "
                           "whichever party claimed)"),
    "wrong_award": _E(422, "the record names another award than the case's"),
    "wrong_endpoint": _E(422, "a record posted to the route of another act"),
    "wrong_institution": _E(422, "the escrow order names another institution"),
    "wrong_record_type": _E(422, "a record type that cannot be posted here"),
    "wrong_reveal": _E(422, "a reveal that does not open its commitment: the jury draw's "
                            "seed, or a juror's vote (choice, reason code, salt)"),
    "wrong_signer": _E(403, "the record is signed by someone else than its signer field or "
                            "the user"),
    "wrong_stage": _E(409, "the case is not in a stage that takes this step"),
})


def markdown_table() -> str:
    """The docs/api.md "Errors" table, rows sorted by code."""
    rows = ["| code | HTTP status | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{code}` | {e.status} | {e.meaning} |" for code, e in sorted(ERROR_CODES.items())]
    return "\n".join(rows) + "\n"
