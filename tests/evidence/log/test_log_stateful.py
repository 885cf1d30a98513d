"""The log as a monitor sees it, driven by random sequences (hypothesis stateful): appends,
reopenings from the store (a restarted service), checkpoints, receipts and proofs of
absence, each checked against a plain list of entries (the model) and by the verifiers a
monitor or a court runs."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from evidence.log import (
    AbsenceDisproved,
    Checkpoint,
    EntryKind,
    LogEntry,
    MemoryNodeStore,
    MerkleLog,
    NoteSigner,
    SignedCheckpoint,
    issue_absence,
    issue_receipt,
    root_after,
    sign_checkpoint,
    verify_absence,
    verify_checkpoint,
    verify_checkpoints_consistent,
    verify_receipt,
)

ORIGIN = "chainarb.example/log"
SIGNER = NoteSigner.from_private_key("0x" + "4c" * 32)  # a published test key
ACCEPTED = [SIGNER.address]
WHEN = datetime(2026, 12, 6, tzinfo=UTC)
CASES = [bytes([c]) * 32 for c in range(1, 5)]


class LogMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryNodeStore()
        self.log = MerkleLog(self.store)
        self.entries: list[LogEntry] = []
        self.checkpoints: list[SignedCheckpoint] = []  # every one signed, in order
        self.monitor: SignedCheckpoint | None = None  # the last one the monitor checked

    @rule(case=st.sampled_from(CASES), kind=st.sampled_from(list(EntryKind)),
          count=st.integers(min_value=1, max_value=9))
    def append(self, case: bytes, kind: EntryKind, count: int) -> None:
        for _ in range(count):
            n = len(self.entries)
            entry = LogEntry(kind, case, n.to_bytes(32, "big"), (n + 1).to_bytes(32, "big"))
            assert self.log.append(entry.encode()) == n
            self.entries.append(entry)

    @rule()
    def restart(self) -> None:
        """The service restarts: the tree is reopened from the store at the known size."""
        self.log = MerkleLog.open(self.store, len(self.entries))

    @rule()
    def checkpoint(self) -> None:
        n = len(self.entries)
        note = sign_checkpoint(Checkpoint(ORIGIN, n, self.log.root()), SIGNER)
        self.checkpoints.append(verify_checkpoint(note, ACCEPTED, ORIGIN))

    @precondition(lambda self: bool(self.checkpoints))
    @rule()
    def monitor_follows(self) -> None:
        new = self.checkpoints[-1]
        if self.monitor is not None:
            proof = self.log.consistency_proof(self.monitor.size, new.size)
            verify_checkpoints_consistent(self.monitor, new, proof)
        self.monitor = new

    @precondition(lambda self: any(c.size for c in self.checkpoints))
    @rule(data=st.data())
    def receipt(self, data: st.DataObject) -> None:
        cp = data.draw(st.sampled_from([c for c in self.checkpoints if c.size]))
        i = data.draw(st.integers(min_value=0, max_value=cp.size - 1))
        r = issue_receipt(origin=ORIGIN, index=i, entry=self.entries[i], accepted_at=WHEN,
                          signer=SIGNER)
        r = r.with_inclusion(cp.note, self.log.inclusion_proof(i, cp.size))
        assert verify_receipt(r.dumps(), ACCEPTED, require_inclusion=True,
                              checkpoint=cp).checkpoint == cp

    @precondition(lambda self: bool(self.checkpoints))
    @rule(data=st.data(), case=st.sampled_from(CASES))
    def absence(self, data: st.DataObject, case: bytes) -> None:
        """Between a checkpoint signed earlier and one signed now."""
        a = data.draw(st.sampled_from(self.checkpoints))
        self.checkpoint()
        b = self.checkpoints[-1]
        between = self.entries[a.size:b.size]
        present = any(e.case_id == case for e in between)
        try:
            p = issue_absence(origin=ORIGIN, case_id=case, first=a.note, second=b.note,
                              frontier=self.log.frontier(a.size), entries=between,
                              issued_at=WHEN, signer=SIGNER)
        except AbsenceDisproved:
            assert present
            event("absence disproved")
            return
        assert not present
        event("absence issued and verified")
        v = verify_absence(p.dumps(), ACCEPTED, case_id=case, first=a.checkpoint,
                           second=b.checkpoint)
        assert (v.first.size, v.second.size) == (a.size, b.size)

    @invariant()
    def matches_the_model(self) -> None:
        n = len(self.entries)
        assert self.log.size == n == self.store.leaf_count()
        assert root_after(0, [], (e.encode() for e in self.entries)) == (n, self.log.root())


TestLog = LogMachine.TestCase
TestLog.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
