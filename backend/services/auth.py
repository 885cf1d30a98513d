"""Sign-in with the wallet (EIP-4361 style message, EIP-191 ``personal_sign``).

Theory of operation:

1. ``issue_challenge`` stores a one-time nonce with the exact message text the wallet will
   show and sign: domain, address (EIP-55), statement, URI, chain id, nonce, issued-at and
   expiry (EIP-4361 layout). Nothing secret is involved; no password exists.
2. ``sign_in`` parses the nonce out of the returned message, loads the challenge and
   refuses: an unknown nonce, a message that differs by one byte from the one issued, an
   expired one, a nonce already used (a compare-and-set ``UPDATE ... WHERE used_at IS NULL``,
   so two racing requests cannot both win), a malformed or malleable signature, and any
   signer other than the address the challenge was issued to.
3. The session token is 32 random bytes (URL-safe); only its HMAC-SHA256 under the session
   secret (``CHAINARB_SESSION_SECRET``, or the generated ``<data_dir>/session.secret``) is
   stored (column ``token_sha256``). A token is valid until ``expires_at`` or ``sign_out``,
   and only while the service runs with the same secret: a restart with the same secret
   keeps every session; a new secret signs everyone out at once (rotation after a leak),
   and rows written into the database by someone without the secret open no session.

The server never sees a private key: the wallet signs, the server recovers the address.

``request_challenge``, ``sign_in_unit`` and ``sign_out_unit`` are the units of work the API
calls: each runs in ``write_scope`` (SQLite: the write lock is taken before the nonce is
read, so concurrent sign-ins queue instead of failing with "database is locked").
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from eth_account.messages import _hash_eip191_message, encode_defunct
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from backend.db import Account, AuthNonce, AuthSession, rows_changed, write_scope
from backend.db.fast import prepare
from backend.db.rows import table_of
from evidence.errors import EvidenceError
from evidence.records import checksum_address, recover_signer

from .errors import AuthRequired, BadSubmission, SignInRefused

__all__ = [
    "AUTH_CACHE_SECONDS",
    "Challenge",
    "SessionCache",
    "SignedIn",
    "authenticate",
    "issue_challenge",
    "parse_sign_in_message",
    "request_challenge",
    "sign_in",
    "sign_in_message",
    "sign_in_unit",
    "sign_out",
    "sign_out_unit",
    "token_digest",
]

STATEMENT = (
    "Sign in to chainarb. This proves you hold this wallet; it costs nothing and "
    "authorises no transaction."
)
_NONCE_RE = re.compile(r"^Nonce: ([A-Za-z0-9]{16,64})$", re.MULTILINE)
MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class Challenge:
    message: str
    nonce: str
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    token: str
    address: str
    expires_at: datetime


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_in_message(*, domain: str, uri: str, address: str, chain_id: int, nonce: str,
                    issued_at: datetime, expires_at: datetime) -> str:
    """The EIP-4361 text the wallet shows and signs with ``personal_sign``."""
    return (
        f"{domain} wants you to sign in with your Ethereum account:\n"
        f"{address}\n\n"
        f"{STATEMENT}\n\n"
        f"URI: {uri}\n"
        f"Version: 1\n"
        f"Chain ID: {chain_id}\n"
        f"Nonce: {nonce}\n"
        f"Issued At: {_iso(issued_at)}\n"
        f"Expiration Time: {_iso(expires_at)}"
    )


def parse_sign_in_message(message: str) -> str:
    """The nonce of a sign-in message (the only field looked up; the rest is compared whole)."""
    if not isinstance(message, str) or len(message) > MAX_MESSAGE_CHARS:
        raise SignInRefused("message: expected the sign-in text issued by this service")
    found = _NONCE_RE.search(message)
    if found is None:
        raise SignInRefused("message: no 'Nonce:' line; sign the message this service issued")
    return found.group(1)


def issue_challenge(session: Session, *, address: str, now: datetime, domain: str, uri: str,
                    chain_id: int, lifetime: timedelta) -> Challenge:
    """Store a one-time nonce for ``address`` and return the message to sign (caller commits)."""
    try:
        address = checksum_address(address)
    except EvidenceError as exc:
        raise BadSubmission(str(exc), code="invalid_address") from None
    nonce = secrets.token_hex(16)
    expires = now + lifetime
    message = sign_in_message(domain=domain, uri=uri, address=address, chain_id=chain_id,
                              nonce=nonce, issued_at=now, expires_at=expires)
    session.add(AuthNonce(nonce=nonce, address=address, message=message, issued_at=now,
                          expires_at=expires))
    return Challenge(message=message, nonce=nonce, expires_at=expires)


def token_digest(token: str, secret: bytes) -> str:
    """What the database keeps of a session token: HMAC-SHA256 under the session secret."""
    if not secret:
        raise ValueError("the session secret is empty")
    return "0x" + hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()


def sign_in(session: Session, *, message: str, signature: str, now: datetime,
            lifetime: timedelta, secret: bytes) -> SignedIn:
    """Check a signed challenge and open a session (caller commits)."""
    nonce = parse_sign_in_message(message)
    challenge = session.get(AuthNonce, nonce)
    if challenge is None:
        raise SignInRefused(f"nonce {nonce}: unknown; ask for a new sign-in message")
    if challenge.message != message:
        raise SignInRefused("message: differs from the one issued for this nonce; sign it "
                            "exactly as given")
    if challenge.used_at is not None:
        raise SignInRefused(f"nonce {nonce}: already used (replay); ask for a new message")
    if now >= challenge.expires_at:
        raise SignInRefused(f"message expired at {_iso(challenge.expires_at)} (now "
                            f"{_iso(now)}); ask for a new one")
    digest = bytes(_hash_eip191_message(encode_defunct(text=message)))
    try:
        signer = recover_signer(digest, signature)
    except EvidenceError as exc:
        raise SignInRefused(f"signature: {exc}") from None
    if signer != challenge.address:
        raise SignInRefused(f"signature: made by {signer}, but the message was issued to "
                            f"{challenge.address}")
    used = rows_changed(
        session,
        sa.update(AuthNonce)
        .where(col(AuthNonce.nonce) == nonce, col(AuthNonce.used_at).is_(None))
        .values(used_at=now),
    )
    if used != 1:
        raise SignInRefused(f"nonce {nonce}: already used (replay); ask for a new message")
    if session.get(Account, signer) is None:
        try:  # two first sign-ins of one address may race (PostgreSQL): one insert wins
            with session.begin_nested():
                session.add(Account(address=signer, created_at=now))
        except IntegrityError:
            pass
    token = secrets.token_urlsafe(32)
    expires = now + lifetime
    session.add(AuthSession(token_sha256=token_digest(token, secret), address=signer,
                            created_at=now, expires_at=expires))
    return SignedIn(token=token, address=signer, expires_at=expires)


def authenticate(session: Session, token: str, now: datetime, secret: bytes) -> str:
    """The address behind a session token, or AuthRequired."""
    return _live_session(session, token, now, secret)[0]


_SESSIONS = table_of(AuthSession).c


def _live_select() -> sa.Select[tuple[str, datetime, datetime | None]]:
    return sa.select(_SESSIONS.address, _SESSIONS.expires_at, _SESSIONS.revoked_at).where(
        _SESSIONS.token_sha256 == sa.bindparam("digest"))


def _live_session(session: Session | sa.Connection, token: str, now: datetime,
                  secret: bytes) -> tuple[str, datetime]:
    """(address, expires_at) of a live session token, or AuthRequired. One compiled
    statement (``backend.db.fast``: every API request's session-cache miss, issue 10) in
    ``session``'s transaction, or on a plain read's connection."""
    conn = session.connection() if isinstance(session, Session) else session
    row = prepare("live_session", conn.dialect, _live_select).first(
        conn, {"digest": token_digest(token, secret)})
    if row is None:
        raise AuthRequired("session token unknown; sign in again")
    address, expires_at, revoked_at = row
    if revoked_at is not None:
        raise AuthRequired("session was signed out; sign in again")
    if now >= expires_at:
        raise AuthRequired(f"session expired at {_iso(expires_at)}; sign in again")
    return address, expires_at


AUTH_CACHE_SECONDS = 5.0
Reading = Session | sa.Connection  # what a session factory or a plain read gives


class SessionCache:
    """Live session tokens of this process, each remembered for at most ``ttl`` seconds.

    Why: every API request authenticates, and the lookup (a session, a SELECT, and on
    the API a trip to the thread pool) cost about a tenth of a signed action's CPU. A hit
    still checks the session's expiry against the caller's clock. A sign-out through this
    process forgets the token at once; a revocation made elsewhere (another worker
    process, or directly in the database) takes effect within ``ttl`` seconds. Keys are
    token digests, never tokens. The cache holds the process's session secret, so every
    digest of a token made through it is the one the database holds."""

    def __init__(self, ttl: float = AUTH_CACHE_SECONDS, *, secret: bytes,
                 max_entries: int = 10_000,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if not secret:
            raise ValueError("the session secret is empty")
        self.secret = secret
        self.ttl = ttl
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: dict[str, tuple[str, datetime, float]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str, now: datetime) -> str | None:
        """The address if the token was seen live within ``ttl`` (no I/O); None on a
        miss; AuthRequired if it has expired since."""
        hit = self._entries.get(token_digest(token, self.secret))
        if hit is None or self._monotonic() >= hit[2]:
            return None
        address, expires_at, _until = hit
        if now >= expires_at:
            raise AuthRequired(f"session expired at {_iso(expires_at)}; sign in again")
        return address

    def authenticate(self, sessions: Callable[[], AbstractContextManager[Reading]], token: str,
                     now: datetime) -> str:
        """``cached`` or the database (then remembered). ``sessions``: a session factory,
        or a plain read's connection (``CaseRepository.reading``: the case view's)."""
        address = self.cached(token, now)
        if address is not None:
            return address
        with sessions() as session:
            address, expires_at = _live_session(session, token, now, self.secret)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # simple bound; entries are refilled on demand
            self._entries[token_digest(token, self.secret)] = (
                address, expires_at, self._monotonic() + self.ttl)
        return address

    def forget(self, token: str) -> None:
        with self._lock:
            self._entries.pop(token_digest(token, self.secret), None)


def sign_out(session: Session, token: str, now: datetime, secret: bytes) -> None:
    session.execute(
        sa.update(AuthSession)
        .where(col(AuthSession.token_sha256) == token_digest(token, secret),
               col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def request_challenge(sessions: sessionmaker[Session], *, address: str, now: datetime,
                      domain: str, uri: str, chain_id: int, lifetime: timedelta) -> Challenge:
    """``issue_challenge`` as one committed unit of work."""
    with write_scope(sessions) as session:
        return issue_challenge(session, address=address, now=now, domain=domain, uri=uri,
                               chain_id=chain_id, lifetime=lifetime)


def sign_in_unit(sessions: sessionmaker[Session], *, message: str, signature: str,
                 now: datetime, lifetime: timedelta, secret: bytes) -> SignedIn:
    """``sign_in`` as one committed unit of work, under the write lock from its first read."""
    with write_scope(sessions) as session:
        return sign_in(session, message=message, signature=signature, now=now,
                       lifetime=lifetime, secret=secret)


def sign_out_unit(sessions: sessionmaker[Session], token: str, now: datetime,
                  secret: bytes) -> None:
    with write_scope(sessions) as session:
        sign_out(session, token, now, secret)
