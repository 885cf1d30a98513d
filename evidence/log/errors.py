# ruff: noqa: N818  -- names state the refusal (NoteForged, CaseNotAbsent), as evidence.errors does
"""The log's refusals: each names what failed, so a verifier's report (and a test) can tell a
forged checkpoint from a stale proof or a record that is present after all.

All derive from `evidence.errors` classes (a caller catching `EvidenceError`, `ProofError`,
`FormatError`, `InvalidSignature` or `WrongSigner` still catches them) and carry a stable
`code` (docs/log.md, "Refusals").
"""

from __future__ import annotations

from evidence.errors import (
    EvidenceError,
    FormatError,
    InvalidSignature,
    ProofError,
    WrongSigner,
)

__all__ = [
    "REFUSALS",
    "AbsenceDisproved",
    "CheckpointMismatch",
    "ConsistencyProofError",
    "InclusionProofError",
    "LogEntryError",
    "LogRangeError",
    "MissingNode",
    "NoteForged",
    "NoteFormatError",
    "NoteUnsigned",
    "OriginMismatch",
    "StatementForged",
    "StatementFormatError",
    "WrongCase",
]


class LogEntryError(FormatError):
    """An encoded log entry of the wrong length, version or kind."""

    code = "log_entry"


class LogRangeError(EvidenceError, ValueError):
    """An index or tree size outside the log (a proof asked of a size the log never had)."""

    code = "log_range"


class MissingNode(EvidenceError):
    """The node store lacks a node that its tree size says it must hold (a damaged store)."""

    code = "log_missing_node"


class InclusionProofError(ProofError):
    """An inclusion proof that does not lead from the leaf to the checkpoint's root."""

    code = "log_inclusion"


class ConsistencyProofError(ProofError):
    """Two tree heads that no consistency proof joins: the log was rewritten (or the proof
    is damaged)."""

    code = "log_inconsistent"


class NoteFormatError(FormatError):
    """A signed note or checkpoint that does not follow C2SP signed-note / tlog-checkpoint."""

    code = "note_format"


class NoteForged(InvalidSignature):
    """A note signature line that claims an accepted institution key but does not verify
    under it: the note's text was changed after signing, or the signature was forged."""

    code = "note_forged"


class NoteUnsigned(WrongSigner):
    """A note with no signature by any accepted institution key (unknown keys are ignored,
    as the signed-note spec requires)."""

    code = "note_unsigned"


class OriginMismatch(EvidenceError):
    """A checkpoint, receipt or statement of another log (its origin line differs)."""

    code = "log_origin"


class CheckpointMismatch(EvidenceError):
    """A statement cites a checkpoint other than the one the verifier holds for that size."""

    code = "log_checkpoint_mismatch"


class StatementFormatError(FormatError):
    """A receipt or proof-of-absence JSON that is malformed, over-long or of another format."""

    code = "log_statement_format"


class StatementForged(WrongSigner):
    """A receipt or proof-of-absence whose signature is not the institution's over these
    exact fields (changed after signing, or signed by another key)."""

    code = "log_statement_forged"


class AbsenceDisproved(EvidenceError):
    """A proof of absence whose own entries name the case: the case's record is present."""

    code = "log_case_present"


class WrongCase(EvidenceError):
    """A proof of absence about another case than the one the verifier asked about."""

    code = "log_wrong_case"


# What each refusal means, in English and Simplified Chinese, by code: the one table a CLI,
# a monitor or a page shows beside the error's own (English, detailed) message.
REFUSALS: dict[str, tuple[str, str]] = {
    LogEntryError.code: ("malformed log entry", "日志条目格式错误"),
    LogRangeError.code: ("index or tree size outside the log", "索引或树大小超出日志范围"),
    MissingNode.code: ("the log's node store is damaged", "日志节点存储已损坏"),
    InclusionProofError.code: ("the record is not proven to be in the log",
                               "无法证明该记录在日志中"),
    ConsistencyProofError.code: ("the log was rewritten: two states do not extend each other",
                                 "日志被改写：两个状态互不延续"),
    NoteFormatError.code: ("malformed checkpoint or signed note", "检查点或签名注记格式错误"),
    NoteForged.code: ("forged or altered checkpoint signature", "检查点签名被伪造或内容被篡改"),
    NoteUnsigned.code: ("checkpoint not signed by the institution", "检查点未经本机构签名"),
    OriginMismatch.code: ("belongs to another log", "属于另一份日志"),
    CheckpointMismatch.code: ("cites another checkpoint than the trusted one",
                              "引用的检查点与可信检查点不同"),
    StatementFormatError.code: ("malformed receipt or proof of absence",
                                "回执或不存在证明格式错误"),
    StatementForged.code: ("forged or altered receipt or proof of absence",
                           "回执或不存在证明被伪造或篡改"),
    AbsenceDisproved.code: ("the case has a record in that range: not absent",
                            "该案件在此区间内有记录：并非不存在"),
    WrongCase.code: ("proof of absence about another case", "不存在证明针对的是另一案件"),
}
