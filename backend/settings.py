"""The service's one typed configuration object.

Rules for this module:

* Every setting is an environment variable named ``CHAINARB_<FIELD>`` (case-insensitive);
  the database URL also answers to the conventional ``DATABASE_URL``. A ``.env`` file in
  the working directory is read too. The README documents every variable.
* Nothing is built at import time. The composition root (``chainarb serve``/``demo``, test
  fixtures) calls ``Settings()`` (or ``load_settings()``) once and passes the object down;
  libraries take plain parameters (STYLE.md section 8).
* Secrets are ``SecretStr``: ``repr``/``str``/logs show ``**********``. The database URL
  may carry a password, so ``repr`` shows it with the password masked.
* The institution key. Configured (``CHAINARB_INSTITUTION_KEY``), or, on the embedded
  default only, generated on first start into ``<data_dir>/institution.key`` (mode 0600 from
  creation, never logged) and reused later. Against an external node it must be configured.
  A key whose private half is public (``evidence.published_keys``: the former built-in
  development key, anvil/Hardhat's default accounts) is always refused: anyone could sign
  for the institution.
* Validators fail with ``pydantic.ValidationError`` whose messages say what was expected,
  what was found and what to set. ``load_settings`` turns that into ``SettingsError``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backend.performance._webhook import SenderConfig, senders_by_id

__all__ = [
    "EMBEDDED_CHAIN_ID",
    "INSTITUTION_KEY_FILE",
    "AnchorChain",
    "Settings",
    "SettingsError",
    "load_settings",
    "read_key_file",
    "replace_key_file",
]

# The embedded chain's id. Not anvil's/Hardhat's 31337 on purpose: contract addresses are
# deterministic (deployer + nonce), so a signature made for a developer's local anvil must
# not verify on the embedded chain, and the EIP-712 domain binds the chain id.
EMBEDDED_CHAIN_ID = 31_415_926

# The embedded default's own institution key, generated on first start (see
# ``Settings.institution_private_key``).
INSTITUTION_KEY_FILE = "institution.key"

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_KEY_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_MIN_SECRET_CHARS = 32


class SettingsError(Exception):
    """The configuration is unusable; the message names the variables to fix.

    `problems` holds one "VARIABLE: what is wrong" line per problem, each naming the
    variable as the user set it (``DATABASE_URL`` or ``CHAINARB_DATABASE_URL``)."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("invalid configuration:\n  " + self.detail)

    @property
    def detail(self) -> str:
        return "\n  ".join(self.problems)


def _checksum(value: str, name: str) -> str:
    from eth_utils import to_checksum_address

    if not _ADDRESS_RE.match(value):
        raise ValueError(
            f"{name}: expected a 20-byte hex address like "
            f"0x5FbDB2315678afecb367f032d93F642f64180aa3, found {value!r}"
        )
    return to_checksum_address(value)


def _check_http_url(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{name}: expected an http(s) URL such as http://127.0.0.1:8545, found {value!r}"
        )
    return value


def _comma_list(value: Any) -> list[str]:
    """A comma-separated environment value (or a list given in code) as stripped items."""
    if value is None:
        return []
    if isinstance(value, str | Path):
        value = str(value).split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _check_certificate_file(path: Path) -> None:
    """A readable PEM/DER certificate file, or a ValueError naming it (never its content)."""
    from evidence.errors import EvidenceError
    from evidence.timestamp import load_certificates

    if not path.is_file():
        raise ValueError(f"CHAINARB_TSA_CERT_FILES: {path} does not exist")
    try:
        if not load_certificates(path.read_bytes()):
            raise ValueError("no certificate")
    except (OSError, ValueError, EvidenceError) as exc:
        raise ValueError(f"CHAINARB_TSA_CERT_FILES: {path} is not a PEM or DER certificate "
                         f"file ({type(exc).__name__})") from None


PositiveDays = Annotated[int, Field(ge=1, le=365)]


class AnchorChain(BaseModel):
    """One more chain every Merkle root is anchored on, beside the service's own chain
    (an item of ``CHAINARB_ANCHOR_CHAINS``, a JSON list). EvidenceAnchor must already be
    deployed there; the institution key signs the anchoring transactions, so its account
    needs gas on that chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100,
                      description="Shown in packages and verdicts, e.g. 'Ethereum Sepolia'.")
    chain_id: int = Field(gt=0, description="Checked against the node before it is used.")
    rpc_url: str
    contract: str = Field(description="The EvidenceAnchor contract on that chain.")
    operated_by_institution: bool = Field(
        description="True when the institution runs this chain (then it proves nothing "
        "against the institution); required: independence is never assumed.")

    @field_validator("rpc_url")
    @classmethod
    def _rpc(cls, value: str) -> str:
        return _check_http_url(value.strip(), "CHAINARB_ANCHOR_CHAINS rpc_url")

    @field_validator("contract")
    @classmethod
    def _contract(cls, value: str) -> str:
        return _checksum(value.strip(), "CHAINARB_ANCHOR_CHAINS contract")


class Settings(BaseSettings):
    """Everything the service can be configured with (see the README's settings table)."""

    model_config = SettingsConfigDict(
        env_prefix="CHAINARB_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
        populate_by_name=True,
        hide_input_in_errors=True,  # a mistyped key or URL password must not reach logs
    )

    # --- storage -----------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path(".chainarb"),
        description="Holds the SQLite file, the local IPFS blockstore, the embedded chain's "
        "state and the deployment file, so a later process sees what an earlier one did.",
    )
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("CHAINARB_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="Empty: SQLite file <data_dir>/chainarb.sqlite3. "
        "Or postgresql+psycopg://user:pass@host:port/db (postgres:// is normalised).",
    )

    # --- chain -------------------------------------------------------------------------
    chain_rpc_url: str = Field(
        default="", description="Empty: the embedded chain kept in <data_dir>/chain."
    )
    chain_id: int | None = Field(
        default=None,
        gt=0,
        description="Expected chain id; checked against the node at start. Embedded: fixed.",
    )
    anchor_address: str | None = Field(default=None, description="EvidenceAnchor contract.")
    escrow_address: str | None = Field(default=None, description="ArbitrationEscrow contract.")
    token_address: str | None = Field(default=None, description="The ERC-20 (stablecoin).")
    deployment_file: Path | None = Field(
        default=None,
        description="JSON written at first deploy; default <data_dir>/deployment.json. "
        "Explicit *_ADDRESS settings win over it.",
    )
    institution_key: SecretStr | None = Field(
        default=None,
        description="Hex private key the institution signs raw transactions with. Never logged.",
    )
    confirmations: int = Field(
        default=1, ge=1, le=1000, description="Blocks (including the anchor's own) to wait."
    )
    anchor_interval_seconds: float = Field(
        default=30.0, ge=0, le=86_400, description="0 = anchor immediately (the demo)."
    )
    anchor_batch_limit: int = Field(default=1000, ge=1, le=100_000)
    chain_name: str = Field(
        default="", max_length=100,
        description="The service chain's name in packages; empty: 'embedded chain' or "
        "'chain <id>'.")
    chain_operated_by_institution: bool = Field(
        default=True,
        description="Whether the institution runs the service's chain (CHAINARB_CHAIN_RPC_URL). "
        "Always true for the embedded chain; set false only for a chain it does not control.")
    anchor_chains: list[AnchorChain] = Field(
        default_factory=list,
        description="More chains each root is anchored on: a JSON list of {name, chain_id, "
        "rpc_url, contract, operated_by_institution}.")

    # --- performance evidence (docs/performance-evidence.md) ---------------------------
    webhook_senders: list[SenderConfig] = Field(
        default_factory=list,
        description="Carriers and marketplaces whose signed webhooks record performance "
        "evidence: a JSON list of {id, name, name_zh, scheme (hmac-sha256 | ed25519 | "
        "secp256k1), secret | public_key | address, window_seconds, events}.")

    # --- IPFS --------------------------------------------------------------------------
    ipfs_api_url: str = Field(
        default="",
        description="Empty: the local blockstore in <data_dir>/ipfs. Else a kubo RPC API as "
        "http://127.0.0.1:5001 or /ip4/127.0.0.1/tcp/5001/http.",
    )

    # --- notices -----------------------------------------------------------------------
    smtp_host: str = Field(default="", description="Empty: notices stay in the outbox only.")
    smtp_port: int = Field(default=25, ge=1, le=65_535)
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "chainarb <noreply@chainarb.invalid>"

    # --- RFC 3161 time-stamping ----------------------------------------------------------
    tsa_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("CHAINARB_TSA_URLS", "CHAINARB_TSA_URL", "tsa_urls",
                                      "tsa_url"),
        description="RFC 3161 authorities, comma-separated, in order of preference (the first "
        "that answers stamps; backend/timestamping.py); empty = no tokens.",
    )
    tsa_cert_files: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        validation_alias=AliasChoices("CHAINARB_TSA_CERT_FILES", "CHAINARB_TSA_CERT_FILE",
                                      "tsa_cert_files", "tsa_cert_file"),
        description="PEM files (comma-separated) with the authorities' certificates and "
        "their chains: tokens must lead to one; packages carry them all.",
    )

    # --- web ---------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65_535)
    public_url: str = Field(
        default="", description="Base URL printed in QR codes; default http://<host>:<port>."
    )
    log_origin: str = Field(
        default="", max_length=255,
        description="The institution log's origin (its checkpoints' first line and key "
        "name, docs/log.md); default <host of the public URL>/log. Never change it once "
        "a checkpoint is anchored: the worker refuses another origin.")
    pdf_font: Path | None = Field(
        default=None, description="TrueType CJK font the judicial certificate embeds; "
        "default: an installed one (fonts-wqy-zenhei), else the certificate leaves its "
        "Chinese half out and says so.")
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1, le=2 * 1024**3)
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs session tokens (>= 32 chars). Empty: a random secret kept in "
        "<data_dir>/session.secret, shared by every process on that data dir.",
    )
    session_lifetime_seconds: int = Field(default=8 * 3600, ge=60, le=30 * 86_400)
    sign_in_nonce_lifetime_seconds: int = Field(default=300, ge=10, le=3600)

    # --- the institution's staff and background work -----------------------------------
    institution_admins: str = Field(
        default="",
        description="Comma-separated addresses of staff who appoint neutrals and register "
        "courts (the institution key is always an admin).",
    )
    # --- the institution's legal identity (every judicial package names it) ----------
    institution_name: str = Field(
        default="chainarb ODR service", min_length=1, max_length=200,
        description="The institution's legal name in English, as registered.")
    institution_name_zh: str = Field(
        default="chainarb 在线争议解决服务", min_length=1, max_length=200,
        description="The institution's name in Chinese (简体中文).")
    institution_seat: str = Field(
        default="", max_length=200,
        description="Seat of the institution (city, country), e.g. Hangzhou, CN.")
    institution_registration: str = Field(
        default="", max_length=200,
        description="Registration: register and number (e.g. a unified social credit code).")
    institution_website: str = Field(
        default="", max_length=200, description="The institution's public website.")
    institution_key_custody: str = Field(
        default="", max_length=500,
        description="How the signing key is held (e.g. an HSM); empty: stated from where "
        "the key comes (CHAINARB_INSTITUTION_KEY or the data dir's generated file).")
    tick_seconds: float = Field(
        default=5.0, ge=0.05, le=3600,
        description="How often `serve` runs deadlines, chain actions, anchoring and e-mail.",
    )

    # --- default rules (days), DESIGN.md ------------------------------------------------
    negotiation_days: PositiveDays = 10
    facilitation_days: PositiveDays = 10
    evidence_days: PositiveDays = 7
    award_days: PositiveDays = 10
    objection_days: PositiveDays = 10
    # the jury track (docs/jury.md): off unless a largest order amount is set
    jury_max_amount: int = Field(
        default=0, ge=0, le=2**256 - 1,
        description="The largest order amount (token units) a jury of public assessors may "
        "decide when both parties or the order's clause choose it; 0: no jury track.")
    jury_size: int = Field(
        default=7, ge=3, le=31, description="The number of jurors drawn (odd).")
    # the fast track (docs/jury.md "Fast track"): off unless a largest order amount is set
    fast_track_max_amount: int = Field(
        default=0, ge=0, le=2**256 - 1,
        description="The largest order amount (token units) whose rule-based pre-evaluation "
        "the mediator may propose as a resolution that binds unless a party objects; 0: no "
        "fast track.")
    # its objection window (never longer than the escrow's objection window, which caps it)
    fast_track_days: PositiveDays = 3

    # ------------------------------------------------------------------------------------
    @field_validator("jury_size")
    @classmethod
    def _jury_size_is_odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"jury_size must be odd (a majority always exists), found {value}")
        return value

    @field_validator("data_dir")
    @classmethod
    def _data_dir_is_not_a_file(cls, value: Path) -> Path:
        value = value.expanduser()
        if value.exists() and not value.is_dir():
            raise ValueError(f"data_dir must be a directory, found a file at {value}")
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        scheme, sep, rest = value.partition("://")
        if not sep:
            raise ValueError(
                "expected a URL like sqlite:///path/file.db or "
                f"postgresql+psycopg://user@host:5432/db, found {_mask_url(value)!r}"
            )
        scheme = scheme.lower()
        if scheme in ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg3"):
            return f"postgresql+psycopg://{rest}"
        if scheme in ("sqlite", "sqlite+pysqlite"):
            return f"sqlite://{rest}"
        raise ValueError(
            "expected sqlite or postgresql (driver psycopg 3), "
            f"found scheme {scheme!r}; e.g. postgresql+psycopg://user@127.0.0.1:5432/chainarb"
        )

    @field_validator("chain_rpc_url")
    @classmethod
    def _check_rpc_url(cls, value: str) -> str:
        value = value.strip()
        return _check_http_url(value, "CHAINARB_CHAIN_RPC_URL") if value else value

    @field_validator("anchor_address", "escrow_address", "token_address")
    @classmethod
    def _check_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        return _checksum(value.strip(), f"CHAINARB_{str(info.field_name).upper()}")

    @field_validator("institution_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if not raw:
            return None
        if not _KEY_RE.match(raw):
            # Never echo the value: it may be a real key with a typo.
            raise ValueError(
                "INSTITUTION_KEY must be 32 bytes of hex (64 hex digits, optional 0x); "
                f"found {len(raw)} characters that are not that"
            )
        number = int(raw.removeprefix("0x"), 16)
        if not 0 < number < _SECP256K1_N:
            raise ValueError("INSTITUTION_KEY is not a valid secp256k1 private key (0 or >= n)")
        key = "0x" + raw.removeprefix("0x").lower()
        _refuse_published(key, "INSTITUTION_KEY")
        return SecretStr(key)

    @field_validator("ipfs_api_url")
    @classmethod
    def _check_ipfs_url(cls, value: str) -> str:
        value = value.strip()
        if not value or value.startswith("/ip4/") or value.startswith("/ip6/") \
                or value.startswith("/dns"):
            return value
        return _check_http_url(value, "CHAINARB_IPFS_API_URL")

    @field_validator("public_url")
    @classmethod
    def _check_optional_url(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        name = f"CHAINARB_{str(info.field_name).upper()}"
        return _check_http_url(value, name) if value else value

    @field_validator("tsa_urls", mode="before")
    @classmethod
    def _split_tsa_urls(cls, value: Any) -> list[str]:
        items = _comma_list(value)
        urls = [_check_http_url(u, "CHAINARB_TSA_URLS") for u in items]
        if len(set(urls)) != len(urls):
            raise ValueError(f"CHAINARB_TSA_URLS names an authority twice: {urls}")
        return urls

    @field_validator("tsa_cert_files", mode="before")
    @classmethod
    def _split_tsa_cert_files(cls, value: Any) -> list[Path]:
        return [Path(p).expanduser() for p in _comma_list(value)]

    @field_validator("institution_website")
    @classmethod
    def _check_website(cls, value: str) -> str:
        value = value.strip()
        return _check_http_url(value, "CHAINARB_INSTITUTION_WEBSITE") if value else value

    @field_validator("institution_name", "institution_name_zh", "institution_seat",
                     "institution_registration", "institution_key_custody")
    @classmethod
    def _printable(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if not value and info.field_name in ("institution_name", "institution_name_zh"):
            raise ValueError(f"CHAINARB_{str(info.field_name).upper()}: the institution must "
                             "be named (every judicial package states it)")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise ValueError(f"CHAINARB_{str(info.field_name).upper()}: control characters "
                             "are not allowed; write it on one line")
        return value

    @field_validator("institution_admins")
    @classmethod
    def _check_admins(cls, value: str) -> str:
        parts = [v.strip() for v in value.split(",") if v.strip()]
        return ",".join(_checksum(v, "CHAINARB_INSTITUTION_ADMINS") for v in parts)

    @field_validator("session_secret", "smtp_password")
    @classmethod
    def _empty_secret_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        senders_by_id(self.webhook_senders)  # each sender id once
        embedded = not self.chain_rpc_url
        if embedded:
            if self.chain_id is not None and self.chain_id != EMBEDDED_CHAIN_ID:
                raise ValueError(
                    f"the embedded chain's id is {EMBEDDED_CHAIN_ID}, found CHAINARB_CHAIN_ID="
                    f"{self.chain_id}; unset CHAINARB_CHAIN_ID or set CHAINARB_CHAIN_RPC_URL "
                    "to your node"
                )
        else:
            key = self.institution_key
            if key is None:
                raise ValueError(
                    "CHAINARB_INSTITUTION_KEY is required when CHAINARB_CHAIN_RPC_URL is set "
                    "(a key is generated in the data dir only for the embedded chain)"
                )
        if embedded and not self.chain_operated_by_institution:
            raise ValueError(
                "CHAINARB_CHAIN_OPERATED_BY_INSTITUTION=false is not possible on the embedded "
                "chain (it runs in the institution's own data dir); add a chain it does not "
                "control to CHAINARB_ANCHOR_CHAINS instead")
        ids = [c.chain_id for c in self.anchor_chains]
        primary = self.expected_chain_id
        if len(set(ids)) != len(ids) or (primary is not None and primary in ids):
            raise ValueError(
                f"CHAINARB_ANCHOR_CHAINS: each chain once, and not the service's own chain "
                f"(which is always anchored on); found chain ids {ids}"
                + (f" beside the service's {primary}" if primary is not None else ""))
        if self.session_secret is not None and \
                len(self.session_secret.get_secret_value()) < _MIN_SECRET_CHARS:
            raise ValueError(
                f"CHAINARB_SESSION_SECRET must have at least {_MIN_SECRET_CHARS} characters, found "
                f"{len(self.session_secret.get_secret_value())}; or leave it empty to use a "
                "generated one in the data dir"
            )
        if bool(self.tsa_urls) != bool(self.tsa_cert_files):
            raise ValueError(
                "CHAINARB_TSA_URLS and CHAINARB_TSA_CERT_FILES go together (tokens are useless "
                "without the authorities' certificates); found CHAINARB_TSA_URLS="
                f"{','.join(self.tsa_urls)!r}, CHAINARB_TSA_CERT_FILES="
                f"{','.join(map(str, self.tsa_cert_files))!r}"
            )
        for cert in self.tsa_cert_files:
            _check_certificate_file(cert)
        if self.pdf_font is not None:
            from evidence.judicial._fonts import FontError, pdf_fonts

            try:
                pdf_fonts(self.pdf_font)
            except FontError as exc:
                raise ValueError(f"CHAINARB_PDF_FONT: {exc}") from None
        if self.smtp_user and self.smtp_password is None:
            raise ValueError("CHAINARB_SMTP_USER is set but CHAINARB_SMTP_PASSWORD is empty")
        return self

    # --- derived values -----------------------------------------------------------------
    def tsa_certificates(self) -> bytes:
        """The authorities' certificate files, concatenated (a package's
        timestamps/tsa-certificates.pem; tokens must lead to one of them)."""
        return b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in self.tsa_cert_files)

    @property
    def embedded_chain(self) -> bool:
        """True when the service runs its own chain in the data dir."""
        return not self.chain_rpc_url

    @property
    def database(self) -> str:
        """The SQLAlchemy URL to use (DATABASE_URL or the SQLite file in the data dir)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'chainarb.sqlite3').resolve()}"

    @property
    def is_postgres(self) -> bool:
        return self.database.startswith("postgresql")

    @property
    def chain_dir(self) -> Path:
        return self.data_dir / "chain"

    @property
    def ipfs_dir(self) -> Path:
        return self.data_dir / "ipfs"

    @property
    def deployment_path(self) -> Path:
        return self.deployment_file or self.data_dir / "deployment.json"

    @property
    def expected_chain_id(self) -> int | None:
        return EMBEDDED_CHAIN_ID if self.embedded_chain else self.chain_id

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def log_origin_value(self) -> str:
        """The log's origin: the configured one, else the public URL's host and path + /log
        (``chainarb.example/log`` for https://chainarb.example)."""
        if self.log_origin:
            return self.log_origin
        parsed = urlsplit(self.base_url)
        return (parsed.netloc + parsed.path.rstrip("/") + "/log").replace("+", "-")

    @property
    def default_rule_days(self) -> dict[str, int]:
        """Deadlines (days) per stage for new cases, DESIGN.md's defaults unless configured."""
        return {
            "negotiation": self.negotiation_days,
            "facilitation": self.facilitation_days,
            "evidence": self.evidence_days,
            "award": self.award_days,
            "objection": self.objection_days,
        }

    @property
    def admins(self) -> frozenset[str]:
        """The institution admins' checksummed addresses."""
        return frozenset(a for a in self.institution_admins.split(",") if a)

    @property
    def institution_key_held(self) -> tuple[str, str]:
        """How the institution key is held, in English and Chinese, as every package states
        it (SPC Online Litigation Rules Art. 18: the platform's security)."""
        if self.institution_key_custody:
            return self.institution_key_custody, self.institution_key_custody
        if self.institution_key is not None:
            return ("a secp256k1 key given to the service in its environment "
                    "(CHAINARB_INSTITUTION_KEY); the operator holds it",
                    "secp256k1 密钥，经运行环境（CHAINARB_INSTITUTION_KEY）提供给服务，"
                    "由运营方保管")
        return ("a secp256k1 key generated by the service on first start, kept in a file of "
                "its data directory (mode 0600) on the operator's machine",
                "secp256k1 密钥，由服务首次启动时生成，"
                "保存在运营方机器的数据目录文件中（权限 0600）")

    @property
    def institution_key_path(self) -> Path:
        """Where the embedded default keeps its generated institution key."""
        return self.data_dir / INSTITUTION_KEY_FILE

    def institution_private_key(self) -> str:
        """The key to sign with: the configured one, or (embedded chain only) the data dir's
        own, generated on first use. Raises SettingsError when that file is unusable."""
        if self.institution_key is not None:
            return self.institution_key.get_secret_value()
        if not self.embedded_chain:  # unreachable: the model validator requires a key
            raise SettingsError("CHAINARB_INSTITUTION_KEY is not set")
        return _generated_key(self.institution_key_path)

    def session_secret_bytes(self) -> bytes:
        """The session-token secret; creates ``<data_dir>/session.secret`` (0600) if unset."""
        if self.session_secret is not None:
            return self.session_secret.get_secret_value().encode()
        path = self.data_dir / "session.secret"
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            pass
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        try:
            # link() fails if another process won the race; then we read the winner's secret.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return bytes.fromhex(path.read_text().strip())

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "database_url" and value:
                yield name, _mask_url(value)
            else:
                yield name, value


def _refuse_published(key: str, name: str) -> None:
    """Refuse a key whose private half is public: anyone could sign as the institution."""
    from eth_account import Account

    from evidence.published_keys import published_key_source

    address = Account.from_key(key).address
    source = published_key_source(address)
    if source is not None:
        raise ValueError(
            f"{name} is a published key ({source}, address {address}): anyone can sign with "
            "it. Use the institution's own key, or leave INSTITUTION_KEY empty on the "
            "embedded chain to have one generated in the data dir"
        )


def _read_key_file(path: Path) -> str:
    """The key in ``path`` after checking its mode (owner only) and its content."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError as exc:
        raise SettingsError(f"cannot read the institution key file {path}: "
                            f"{exc.strerror or exc}") from None
    if mode & 0o077:
        raise SettingsError(
            f"the institution key file {path} has mode {mode:o}: others may read the key. "
            f"Fix it with `chmod 600 {path}` (and check who could have read it)")
    try:
        raw = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
        raise SettingsError(f"cannot read the institution key file {path}: {reason}") from None
    number = int(raw.removeprefix("0x"), 16) if _KEY_RE.match(raw) else 0
    if not 0 < number < _SECP256K1_N:
        # Never echo the content: it is (or was meant to be) a private key.
        raise SettingsError(
            f"the institution key file {path} is corrupt ({len(raw)} characters, expected a "
            "0x-prefixed 64-digit hex secp256k1 key). Restore it from a backup: the "
            "institution's past signatures and on-chain role belong to that key. Only on a "
            "throw-away data dir, delete it to generate a new one")
    key = "0x" + raw.removeprefix("0x").lower()
    try:
        _refuse_published(key, f"the institution key file {path}")
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return key


def _generated_key(path: Path) -> str:
    """The data dir's institution key, created on first use: a fresh random key written to a
    temp file opened with O_EXCL and mode 0600 (never readable by others, not even briefly),
    then linked into place so a concurrent starter reads the winner's key, never a half."""
    if path.exists() or path.is_symlink():
        return _read_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    from eth_account import Account

    key = "0x" + bytes(Account.create().key).hex()
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process won: read its key
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key_file(path)


def read_key_file(path: Path) -> str:
    """An institution key from a file (owner-only mode, a valid unpublished key), as the
    data dir's own is read: ``chainarb institution rotate-key --new-key-file``."""
    return _read_key_file(path)


def replace_key_file(path: Path, key: str) -> None:
    """Put ``key`` in ``path`` in one step (a 0600 temp file, fsynced, renamed over it): a
    crash leaves the old key or the new one, never half of either. The old key is gone."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _read_key_file(path)  # what the next start reads is a usable key


def _mask_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and repr)."""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment (plus ``overrides``) or raise SettingsError.

    The error message lists each offending variable with the validator's explanation, in a
    form an operator can act on without a traceback.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["loc"]:
                lines.append(f"{variable_name(str(err['loc'][0]))}: {msg}")
            else:  # a cross-check: its message names the variables itself
                lines.append(msg)
        raise SettingsError(lines) from None


def _aliases() -> dict[str, str]:
    """Every name pydantic may report a field under (field name or alias), lowercased."""
    out: dict[str, str] = {}
    for name, info in Settings.model_fields.items():
        out[name] = name
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            for choice in alias.choices:
                if isinstance(choice, str):
                    out[choice.lower()] = name
    return out


def variable_name(loc: str, environ: Mapping[str, str] | None = None) -> str:
    """The environment variable behind a field (or an alias pydantic reports), as the user
    set it: for the database URL that is ``CHAINARB_DATABASE_URL`` when that is set, else the
    conventional ``DATABASE_URL``; for every other field ``CHAINARB_<FIELD>``."""
    env = os.environ if environ is None else environ
    field = _aliases().get(loc.lower(), loc.lower())
    if field == "database_url":
        present = {k.upper() for k in env}
        return "CHAINARB_DATABASE_URL" if "CHAINARB_DATABASE_URL" in present else "DATABASE_URL"
    return f"CHAINARB_{field.upper()}"
