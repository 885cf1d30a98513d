"""The case service: the one object the API, the CLI, the workers and the demo hold.

A thin facade: it builds the parts once per process and answers with them. Each part has
one job (docs/api.md has the HTTP view):

* ``repository`` (``CaseRepository``): load, lock and save cases; the caches; the
  process's write lock (every write goes through ``write_session``, issue 9).
* ``pipeline`` (``StepPipeline``): a signed step in stages, decode -> authorize ->
  locate -> translate -> apply -> admit -> persist -> interpret -> after-commit, in one
  transaction (``transactions``: concurrent steps share a group commit).
* ``store`` (``StepStore``): a step's rows, IPFS bundle and Merkle leaf.
* ``effects`` (``EffectInterpreter``): each procedure effect by its type, into chain
  actions, notices and timeline events.
* ``scheduler`` (``Scheduler``): defaults after missed deadlines, enforcement records.
* ``courts``: court registration and access (module functions).
* ``institution`` (``Institution``): the key that signs the institution's records.

The clock is injected (``clock()`` returns an aware UTC datetime); nothing here reads the
wall clock.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eth_utils import keccak
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from backend import procedure as p
from evidence.ipfs import Blockstore
from evidence.records import Domain

from . import courts
from .chain import ChainExecutor, EscrowPort
from .checkout import Checkout
from .effects import EffectInterpreter
from .errors import AccessDenied, BadSubmission, NotFound
from .escrow import ETH_META, TokenMeta, UnknownOrder
from .institution import Institution
from .keys import ServiceKey
from .pipeline import StepBody, StepPipeline, StepResult, chain_action_view
from .repository import CaseRepository, CaseRow, ChainHead
from .scheduler import Scheduler
from .step_store import StepStore
from .transactions import StepTransactions

if TYPE_CHECKING:
    from .pool import PoolService

__all__ = ["CaseService", "ServiceConfig", "StepResult", "case_id_for_order",
           "chain_action_view"]


def case_id_for_order(domain: Domain, order_id: int) -> str:
    """One case per escrow order: keccak256 of the deployment and the order id."""
    return "0x" + keccak(text=f"chainarb.case:{domain.chain_id}:{domain.verifying_contract}:"
                              f"{order_id}").hex()


@dataclass(frozen=True)
class ServiceConfig:
    admins: frozenset[str]
    institution_key: str  # hex; signs institution records (never logged)
    rules: p.CaseRules = p.DEFAULT_RULES
    base_url: str = ""
    smtp_enabled: bool = False
    identity: Mapping[str, str] = field(default_factory=dict)  # institution_info's


# After the escrow could not be read for an order's token, views go without it (amounts in
# the smallest unit) for this long before asking the chain again: a chain outage must not
# cost every case view a failed call.
ORDER_TOKEN_RETRY_S = 30.0


class CaseService:
    def __init__(self, sessions: sessionmaker[Session], *, port: EscrowPort,
                 blockstore: Blockstore, clock: Callable[[], datetime],
                 config: ServiceConfig) -> None:
        self.sessions = sessions
        self.port = port
        self.blockstore = blockstore
        self.clock = clock
        self.config = config
        self.domain = port.domain()
        self.institution = Institution(config.institution_key, self.domain)
        if self.institution.address != port.institution_address:
            raise ValueError(f"the institution key's address {self.institution.address} is "
                             f"not the escrow port's institution {port.institution_address}")
        self.keys = ServiceKey.from_institution_key(config.institution_key)
        self.repository = CaseRepository(sessions)
        self.transactions: StepTransactions[StepResult] = StepTransactions(self.repository)
        self.store = StepStore(blockstore, self.keys)
        self.effects = EffectInterpreter(base_url=config.base_url,
                                         smtp_enabled=config.smtp_enabled)
        self.executor = ChainExecutor(sessions, port, clock=clock,
                                      on_done=lambda a, o: self.scheduler.record_enforcement(a, o))
        self.pipeline = StepPipeline(
            repository=self.repository, transactions=self.transactions, store=self.store,
            effects=self.effects, institution=self.institution, executor=self.executor,
            keys=self.keys, service_key=config.institution_key, is_admin=self.is_admin,
            clock=clock)
        self.scheduler = Scheduler(pipeline=self.pipeline, port=port, clock=clock)
        self._order_tokens: dict[int, tuple[str, TokenMeta]] = {}  # an order's token is fixed
        self._order_token_misses: dict[int, float] = {}  # order -> monotonic time of a miss

    def __repr__(self) -> str:
        return f"CaseService(institution={self.institution_address})"

    @functools.cached_property
    def pool(self) -> PoolService:
        """The assessor pool (backend/services/pool.py): its steps, snapshots, standing."""
        from .pool import PoolService  # the pool service reads cases through this one

        return PoolService(self)

    @property
    def institution_address(self) -> str:
        return self.institution.address

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def order_token(self, order_id: int) -> tuple[str, TokenMeta] | None:
        """The order's token and how it is written (symbol, decimals), read once from the
        escrow and its ERC-20 (an order's token never changes); None while the escrow cannot
        be read (a view then gives amounts in the token's smallest unit, never a guess)."""
        if order_id not in self._order_tokens:
            missed = self._order_token_misses.get(order_id)
            if missed is not None and time.monotonic() - missed < ORDER_TOKEN_RETRY_S:
                return None  # a chain that just failed is not asked again on every read
            try:
                token = self.port.read_order(order_id).token
                meta = ETH_META if int(token, 16) == 0 else self.port.token_meta(token)
            except Exception:  # the chain unreachable, or no such order
                self._order_token_misses[order_id] = time.monotonic()
                return None
            self._order_tokens[order_id] = (token, meta)
            self._order_token_misses.pop(order_id, None)
        return self._order_tokens[order_id]

    # -- roles ---------------------------------------------------------------------------

    def is_admin(self, address: str) -> bool:
        return address in self.config.admins or address == self.institution_address

    def viewer_roles(self, case: p.CaseState, address: str, session: Session) -> set[str]:
        """The viewer's roles for access control (the procedure's plus admin/court access)."""
        roles = {r.value for r in case.roles_of(address)} - {"anyone", "institution", "court"}
        if case.claimant is None and address in (case.order.buyer, case.order.seller):
            roles = (roles - {"claimant"}) | {"party"}
        if self.is_admin(address):
            roles.add("admin")
        if address in case.courts:
            roles.add("court")
        return roles

    # -- reading -------------------------------------------------------------------------

    def load(self, case_id: str) -> tuple[CaseRow, p.CaseState]:
        """A case row and its state, read in a session of its own (``NotFound``)."""
        return self.repository.read(case_id)

    def load_in(self, session: Session, case_id: str) -> tuple[CaseRow, p.CaseState]:
        """A case row and its state in the caller's session, unlocked (``NotFound``)."""
        return self.repository.load(session, case_id)

    def chain_head(self, session: Session, case_id: str) -> ChainHead:
        """(next position, previous record hash, previous signedAt) of the step chain."""
        return self.repository.chain_head(session, case_id)

    def award_record_hash(self, session: Session, case_id: str, case: p.CaseState
                          ) -> str | None:
        """Record hash of the binding award's Award record (panel's if any), or None."""
        return self.store.award_record_hash(session, case_id, case)

    # -- writing -------------------------------------------------------------------------

    def open_case(self, user: str, order_id: int) -> str:
        """Create the (unfiled) case of an escrow order; a party of the order asks."""
        try:
            order = self.port.read_order(order_id)
        except UnknownOrder as exc:
            raise NotFound(str(exc)) from None
        if user not in (order.buyer, order.seller):
            raise AccessDenied(f"only the buyer {order.buyer} or the seller {order.seller} of "
                               f"order {order_id} may open its case; you are {user}")
        # An order opened before a key rotation names an earlier key of this institution:
        # the escrow follows the rotations (``institutionOf``) to the key acting today.
        if order.institution != self.institution_address and \
                self.port.institution_of(order.institution) != self.institution_address:
            raise BadSubmission(f"order {order_id} names the institution {order.institution}, "
                                f"not this one ({self.institution_address})",
                                code="wrong_institution")
        case_id = case_id_for_order(self.domain, order_id)
        # An order opened under a signed contract of sale starts its case with the
        # contract's dispute clause in place (backend/services/checkout.py).
        if Checkout(self).bind_on_open(order):
            return case_id
        state = p.new_case(
            case_id=case_id,
            order=p.Order(order_id=order_id, buyer=order.buyer, seller=order.seller,
                          amount=order.amount, guarantee=order.guarantee),
            institution=self.config.admins | {self.institution_address},
            rules=self.config.rules,
        )
        self.repository.create(state, order_id=order_id, buyer=order.buyer,
                               seller=order.seller, now=self.now())
        return case_id

    def submit_step(self, user: str, case_id: str, body: StepBody) -> StepResult:
        """One signed step through the pipeline (``backend.services.pipeline``)."""
        return self.pipeline.submit(user, case_id, body)

    def run_due(self, now: datetime | None = None) -> list[str]:
        return self.scheduler.run_due(now)

    def advance_case(self, case_id: str, now: datetime | None = None) -> bool:
        return self.scheduler.advance_case(case_id, now)

    def reconcile_enforcement(self) -> list[str]:
        return self.scheduler.reconcile_enforcement()

    def register_court(self, admin: str, address: str, name: str, *, name_zh: str = "",
                       country: str = "") -> None:
        courts.register_court(self, admin, address, name, name_zh=name_zh, country=country)
