"""RFC 3161 tokens from a configured list of time-stamping authorities (TSAs).

Why a list: one authority is one party that can be down, slow or gone. The anchoring
worker stamps every confirmed root as soon as it can (the verifier's `clocks` check wants
genTime near the block time), so a token should come from whichever authority answers.

Rules of this module:

1. **Order is preference.** A request goes to the first authority that is not resting, then
   to the next, until one gives a token; so with one authority down the others stamp, and
   nothing waits for the one that is down.
2. **A failure rests the authority, never drops it.** Unreachable, an HTTP error, a
   rejection, or a token that does not verify (another digest, a signer outside the
   configured certificates: a swapped authority) rests it for `backoff` seconds, doubling
   on each further failure up to `max_backoff`. When its rest is over it is asked again
   first (it keeps its place in the order); one token from it ends the rest.
3. **Never refuse without asking.** When every authority is resting, the one whose rest
   ends first is asked anyway.
4. **All failed: one error naming each**, as `TimestampRequestError`; the worker leaves the
   batch unstamped and retries it next round (backend/worker/anchoring.py, rule 6).

Tokens are checked offline with `evidence.timestamp.verify_token` against the configured
certificates (the ones the package carries as tsa-certificates.pem) before they are
accepted. The clock is injectable (tests); the pool is safe to share between threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509

from backend.settings import Settings
from evidence.timestamp import (
    TimestampError,
    TimestampRequestError,
    load_certificates,
    request_timestamp,
    verify_token,
)

__all__ = ["Authority", "TsaPool", "pool_from_settings"]

log = logging.getLogger(__name__)

DEFAULT_BACKOFF = 30.0
DEFAULT_MAX_BACKOFF = 600.0


@dataclass
class Authority:
    """One configured TSA and its state in the pool."""

    url: str
    failures: int = 0
    rest_until: float = 0.0  # monotonic seconds; 0 = available
    last_error: str = ""


class TsaPool:
    """`pool(digest) -> TimeStampResp DER` from the first authority that answers (module rules).

    Args:
        urls: the authorities, in order of preference (at least one).
        trusted: certificates a token must lead to (`verify_token`'s `trusted`).
        request: digest, url -> DER (default `evidence.timestamp.request_timestamp`).
        clock: monotonic seconds (default `time.monotonic`).
    """

    def __init__(self, urls: Sequence[str], trusted: Sequence[x509.Certificate], *,
                 backoff: float = DEFAULT_BACKOFF, max_backoff: float = DEFAULT_MAX_BACKOFF,
                 request: Callable[[str, bytes], bytes] = request_timestamp,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not urls:
            raise ValueError("a TSA pool needs at least one authority URL")
        if not trusted:
            raise ValueError("a TSA pool needs the authorities' certificates to check tokens")
        self.authorities = [Authority(u) for u in urls]
        self.trusted = list(trusted)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._request = request
        self._clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TsaPool({[a.url for a in self.authorities]})"

    def _order(self) -> list[Authority]:
        """Rule 1 and 3: the available ones in configured order, else the first to wake."""
        now = self._clock()
        with self._lock:
            ready = [a for a in self.authorities if a.rest_until <= now]
            if ready:
                return ready
            return [min(self.authorities, key=lambda a: a.rest_until)]

    def _failed(self, a: Authority, error: str) -> None:
        with self._lock:
            a.failures += 1
            rest = min(self.backoff * 2 ** (a.failures - 1), self.max_backoff)
            a.rest_until = self._clock() + rest
            a.last_error = error
        log.warning("time-stamping authority %s failed (%s); resting it %.0f s", a.url, error,
                    rest)

    def _succeeded(self, a: Authority) -> None:
        with self._lock:
            a.failures, a.rest_until, a.last_error = 0, 0.0, ""

    def __call__(self, digest: bytes) -> bytes:
        errors = []
        for a in self._order():
            try:
                token = self._request(a.url, digest)
                verify_token(token, digest, trusted=self.trusted)
            except (TimestampError, ValueError) as exc:  # ValueError: undecodable DER
                self._failed(a, str(exc))
                errors.append(f"{a.url}: {exc}")
                continue
            self._succeeded(a)
            return token
        raise TimestampRequestError(
            "no time-stamping authority gave a token (" + "; ".join(errors) + "); the root "
            "is stamped on a later round")


def pool_from_settings(settings: Settings) -> TsaPool | None:
    """The configured authorities (CHAINARB_TSA_URLS, CHAINARB_TSA_CERT_FILES) as a pool;
    None when none is configured."""
    if not settings.tsa_urls:
        return None
    return TsaPool(settings.tsa_urls, load_certificates(settings.tsa_certificates()))
