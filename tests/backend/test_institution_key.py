"""The institution key: generated per data dir on the embedded default (0600, reused, never
shown), refused when its file is loose or corrupt, and a published key refused everywhere."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from backend.settings import Settings, SettingsError, load_settings
from evidence.published_keys import PUBLISHED_KEY_ADDRESSES

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
FORMER_DEV_KEY = "0x6e67d04874b925001eb674ed8c6b4766d37db541ead4661a78d6e8aee0dbdd03"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("CHAINARB_") or name.upper() == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _anvil_key(i: int) -> str:
    Account.enable_unaudited_hdwallet_features()
    acct = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
    return "0x" + bytes(acct.key).hex()


def test_the_embedded_default_generates_its_key_once_mode_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Settings(data_dir=data).institution_private_key()
    path = data / "institution.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(data_dir=data).institution_private_key() == first  # reused
    assert Account.from_key(first).address not in PUBLISHED_KEY_ADDRESSES
    other = Settings(data_dir=tmp_path / "other").institution_private_key()
    assert other != first  # every data dir its own
    assert sorted(p.name for p in data.iterdir()) == ["institution.key"]  # no temp left


def test_the_key_file_is_0600_from_creation_even_with_a_permissive_umask(
        tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        Settings(data_dir=tmp_path / "d").institution_private_key()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "d" / "institution.key").stat().st_mode) == 0o600


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    code = ("import sys; from backend.settings import Settings; "
            "print(Settings(data_dir=sys.argv[1]).institution_private_key())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "d")],
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1 and all(p.returncode == 0 for p in procs)


def test_a_configured_key_overrides_and_no_file_is_written(tmp_path: Path) -> None:
    key = "0x" + bytes(Account.create().key).hex()
    s = Settings(data_dir=tmp_path / "d", institution_key=key)
    assert s.institution_private_key() == key
    assert not (tmp_path / "d" / "institution.key").exists()


def test_a_loose_key_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d")
    key = s.institution_private_key()
    s.institution_key_path.chmod(0o644)
    with pytest.raises(SettingsError) as err:
        s.institution_private_key()
    assert "mode 644" in str(err.value) and "chmod 600" in str(err.value)
    assert key[2:] not in str(err.value)


def test_a_corrupt_key_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d")
    s.data_dir.mkdir()
    content = "0x" + "ab" * 31 + "zz"  # a real key with a typo must not reach the terminal
    fd = os.open(s.institution_key_path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content.encode())
    os.close(fd)
    with pytest.raises(SettingsError) as err:
        s.institution_private_key()
    assert "is corrupt" in str(err.value) and "backup" in str(err.value)
    assert content not in str(err.value) and "ab" * 31 not in str(err.value)


def test_an_unreadable_key_file_is_refused(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d")
    s.data_dir.mkdir()
    s.institution_key_path.mkdir(mode=0o700)  # not a file: reading fails
    with pytest.raises(SettingsError, match="cannot read the institution key file"):
        s.institution_private_key()


def test_a_published_key_in_the_file_is_refused(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d")
    s.data_dir.mkdir()
    fd = os.open(s.institution_key_path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, FORMER_DEV_KEY.encode())
    os.close(fd)
    with pytest.raises(SettingsError, match="former built-in development institution key"):
        s.institution_private_key()


@pytest.mark.parametrize("key", [FORMER_DEV_KEY, _anvil_key(0), _anvil_key(9),
                                 "0x" + "00" * 31 + "02"])
def test_a_published_key_is_refused_in_the_environment(
        key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ({}, {"CHAINARB_CHAIN_RPC_URL": "http://127.0.0.1:8545"}):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CHAINARB_INSTITUTION_KEY", key)
        with pytest.raises(SettingsError) as err:
            load_settings()
        assert "CHAINARB_INSTITUTION_KEY" in str(err.value)
        assert "published key" in str(err.value) and key[2:] not in str(err.value)


def test_the_key_is_never_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    s = Settings(data_dir=tmp_path / "d")
    key = s.institution_private_key()
    assert key[2:] not in caplog.text and key[2:] not in repr(s)


def test_the_published_list_is_what_its_sources_derive() -> None:
    derived = {Account.from_key(_anvil_key(i)).address: f"anvil/Hardhat default account {i}"
               for i in range(10)}
    derived[Account.from_key(FORMER_DEV_KEY).address] = \
        "chainarb's former built-in development institution key"
    for n in (1, 2, 3):
        derived[Account.from_key(n.to_bytes(32, "big")).address] = f"the private key {n}"
    assert derived == PUBLISHED_KEY_ADDRESSES
