"""Settings: defaults, environment variables, refusals with clear messages, no leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.settings import (
    EMBEDDED_CHAIN_ID,
    Settings,
    SettingsError,
    load_settings,
)

REAL_KEY = "0x" + "4c" * 32
RPC = "http://127.0.0.1:8545"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("CHAINARB_") or name.upper() == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_are_the_embedded_setup(tmp_path: Path) -> None:
    s = Settings()
    assert s.embedded_chain and s.expected_chain_id == EMBEDDED_CHAIN_ID
    assert s.database == f"sqlite:///{tmp_path / '.chainarb' / 'chainarb.sqlite3'}"
    assert s.institution_key is None and s.institution_key_path == Path(".chainarb") / \
        "institution.key"  # generated on first use (tests/backend/test_institution_key.py)
    assert s.anchor_interval_seconds == 30
    assert s.default_rule_days == {"negotiation": 10, "facilitation": 10, "evidence": 7,
                                   "award": 10, "objection": 10}
    assert s.deployment_path == Path(".chainarb") / "deployment.json"


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app:pw@db.example:5432/chainarb")
    monkeypatch.setenv("CHAINARB_CHAIN_RPC_URL", RPC)
    monkeypatch.setenv("CHAINARB_INSTITUTION_KEY", REAL_KEY)
    monkeypatch.setenv("CHAINARB_ANCHOR_ADDRESS", "0x5fbdb2315678afecb367f032d93f642f64180aa3")
    monkeypatch.setenv("CHAINARB_ANCHOR_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("CHAINARB_EVIDENCE_DAYS", "3")
    monkeypatch.setenv("CHAINARB_DATA_DIR", str(tmp_path / "d"))
    s = Settings()
    assert s.database == "postgresql+psycopg://app:pw@db.example:5432/chainarb"
    assert s.is_postgres and not s.embedded_chain
    assert s.anchor_address == "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # checksummed
    assert s.anchor_interval_seconds == 0
    assert s.default_rule_days["evidence"] == 3
    assert s.institution_private_key() == REAL_KEY


def test_secrets_never_appear_in_repr_or_errors() -> None:
    s = Settings(institution_key=REAL_KEY, chain_rpc_url=RPC,
                 database_url="postgresql://u:hunter2@h/db", session_secret="s" * 40,
                 smtp_user="u", smtp_password="mailpw")
    text = repr(s) + str(s)
    for secret in (REAL_KEY[2:], "hunter2", "s" * 40, "mailpw"):
        assert secret not in text
    assert "u:***@h/db" in text
    bad = "0x" + "zz" + "4c" * 31
    with pytest.raises(SettingsError) as err:
        load_settings(institution_key=bad, chain_rpc_url=RPC)
    assert bad not in str(err.value) and "64 hex digits" in str(err.value)


def test_external_chain_needs_its_own_key() -> None:
    with pytest.raises(SettingsError, match="INSTITUTION_KEY is required"):
        load_settings(chain_rpc_url=RPC)
    with pytest.raises(SettingsError, match="published key"):
        load_settings(chain_rpc_url=RPC, institution_key="0x" + "00" * 31 + "01")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"database_url": "mysql://u@h/db"}, "DATABASE_URL: expected sqlite or postgresql"),
        ({"database_url": "not a url"}, "DATABASE_URL: expected a URL like"),
        ({"chain_rpc_url": "ws://127.0.0.1:8545"}, "http\\(s\\) URL"),
        ({"anchor_address": "0x1234"}, "20-byte hex address"),
        ({"institution_key": "0x" + "00" * 32}, "not a valid secp256k1"),
        ({"institution_key": "0x" + "ff" * 32}, "not a valid secp256k1"),
        ({"chain_id": 5}, "embedded chain's id"),
        ({"session_secret": "short"}, "at least 32"),
        ({"tsa_urls": "http://127.0.0.1:3180"}, "go together"),
        ({"smtp_user": "me"}, "SMTP_PASSWORD"),
        ({"confirmations": 0}, "CHAINARB_CONFIRMATIONS"),
        ({"evidence_days": 0}, "CHAINARB_EVIDENCE_DAYS"),
        ({"max_upload_bytes": 0}, "CHAINARB_MAX_UPLOAD_BYTES"),
        ({"ipfs_api_url": "ftp://x"}, "IPFS_API_URL"),
    ],
)
def test_bad_values_are_refused_with_a_named_variable(overrides: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(**overrides)


@pytest.mark.parametrize("variable", ["DATABASE_URL", "CHAINARB_DATABASE_URL"])
def test_a_bad_database_url_is_reported_under_the_name_the_user_set(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "mysql://app:hunter2@db.example/chainarb")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert err.value.problems == [
        f"{variable}: expected sqlite or postgresql (driver psycopg 3), found scheme 'mysql'; "
        "e.g. postgresql+psycopg://user@127.0.0.1:5432/chainarb"
    ]
    assert "CHAINARB_CHAINARB" not in str(err.value) and "hunter2" not in str(err.value)


def test_every_field_error_names_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAINARB_PORT", "0")
    monkeypatch.setenv("CHAINARB_TICK_SECONDS", "nope")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert [line.split(":")[0] for line in err.value.problems] == [
        "CHAINARB_PORT", "CHAINARB_TICK_SECONDS"]


def test_tsa_cert_must_exist_and_be_a_certificate(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tsa_urls="http://127.0.0.1:3180", tsa_cert_files=str(tmp_path / "x.pem"))
    pem = tmp_path / "tsa.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(SettingsError, match=r"tsa.pem is not a PEM or DER certificate file"):
        load_settings(tsa_urls="http://127.0.0.1:3180", tsa_cert_files=str(pem))


def test_tsa_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Comma-separated lists, in order of preference; the singular names still work."""
    from tests.support.tsa import start_tsa

    with start_tsa(tmp_path / "a") as a, start_tsa(tmp_path / "b") as b:
        monkeypatch.setenv("CHAINARB_TSA_URLS", f" {a.url}, {b.url} ")
        monkeypatch.setenv("CHAINARB_TSA_CERT_FILES", f"{a.chain_pem},{b.ca_pem}")
        s = load_settings()
        assert s.tsa_urls == [a.url, b.url]
        assert s.tsa_cert_files == [a.chain_pem, b.ca_pem]
        assert s.tsa_certificates() == a.chain_pem.read_bytes() + b.ca_pem.read_bytes()
        monkeypatch.delenv("CHAINARB_TSA_URLS")
        monkeypatch.delenv("CHAINARB_TSA_CERT_FILES")
        monkeypatch.setenv("CHAINARB_TSA_URL", a.url)
        monkeypatch.setenv("CHAINARB_TSA_CERT_FILE", str(a.ca_pem))
        assert load_settings().tsa_urls == [a.url]
        monkeypatch.setenv("CHAINARB_TSA_URL", f"{a.url},{a.url}")
        with pytest.raises(SettingsError, match="names an authority twice"):
            load_settings()
        monkeypatch.setenv("CHAINARB_TSA_URL", "ftp://tsa.example")
        with pytest.raises(SettingsError, match="CHAINARB_TSA_URLS: expected an http"):
            load_settings()


def test_ipfs_multiaddr_is_accepted() -> None:
    assert load_settings(ipfs_api_url="/ip4/127.0.0.1/tcp/5001/http").ipfs_api_url


def test_session_secret_is_generated_once_per_data_dir(tmp_path: Path) -> None:
    a = Settings(data_dir=tmp_path / "d").session_secret_bytes()
    b = Settings(data_dir=tmp_path / "d").session_secret_bytes()
    assert a == b and len(a) == 32
    assert (tmp_path / "d" / "session.secret").stat().st_mode & 0o777 == 0o600
    assert Settings(data_dir=tmp_path / "e").session_secret_bytes() != a
    assert Settings(session_secret="x" * 32).session_secret_bytes() == b"x" * 32


def test_import_builds_nothing() -> None:
    """No settings object or engine exists at import time (composition root only)."""
    import backend.db
    import backend.settings

    for module in (backend.settings, backend.db):
        assert not any(isinstance(v, Settings) for v in vars(module).values())


SEPOLIA = {"name": "Ethereum Sepolia", "chain_id": 11155111, "rpc_url": "https://rpc.example",
           "contract": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
           "operated_by_institution": False}


def test_anchor_chains_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.setenv("CHAINARB_ANCHOR_CHAINS", json.dumps([SEPOLIA]))
    (chain,) = load_settings().anchor_chains
    assert (chain.name, chain.chain_id, chain.operated_by_institution) == \
        ("Ethereum Sepolia", 11155111, False)
    assert chain.contract == "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # checksummed


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"anchor_chains": [SEPOLIA, SEPOLIA]}, "each chain once"),
        ({"anchor_chains": [{**SEPOLIA, "chain_id": EMBEDDED_CHAIN_ID}]}, "each chain once"),
        ({"anchor_chains": [{k: v for k, v in SEPOLIA.items()
                             if k != "operated_by_institution"}]}, "Field required"),
        ({"anchor_chains": [{**SEPOLIA, "rpc_url": "ws://x"}]}, "http\\(s\\) URL"),
        ({"anchor_chains": [{**SEPOLIA, "contract": "0x12"}]}, "20-byte hex address"),
        ({"chain_operated_by_institution": False}, "not possible on the embedded chain"),
    ],
)
def test_anchoring_chain_refusals(overrides: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as err:
        load_settings(**overrides)
    assert "CHAINARB_" in str(err.value)


def test_chain_labels_name_each_anchoring_chain_and_its_operator() -> None:
    from backend.worker import ChainLabel, chain_labels

    embedded = load_settings(anchor_chains=[SEPOLIA])
    assert chain_labels(embedded, EMBEDDED_CHAIN_ID) == {
        EMBEDDED_CHAIN_ID: ChainLabel("embedded chain", True),
        11155111: ChainLabel("Ethereum Sepolia", False)}
    external = load_settings(chain_rpc_url=RPC, institution_key=REAL_KEY, chain_id=10,
                             chain_name="OP Mainnet", chain_operated_by_institution=False)
    assert chain_labels(external, 10) == {10: ChainLabel("OP Mainnet", False)}
    unnamed = load_settings(chain_rpc_url=RPC, institution_key=REAL_KEY)
    assert chain_labels(unnamed, 77) == {77: ChainLabel("chain 77", True)}  # never assumed
