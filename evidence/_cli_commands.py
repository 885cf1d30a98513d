"""`chainarb evidence …`: the library's tools for parties and courts.

Rules of this file (docs/evidence-cli.md is the user-facing text):

* Exit codes are a contract (`ExitCode`), the same scheme as `chainarb verify`: 0 ok,
  1 verification failed (the evidence is not what it claims), 2 usage or bad input,
  3 could not run (a component is missing, the chain's or the IPFS node does not answer),
  4 cannot be read (an input that cannot be read, a CID not in the store, a disk error).
  Scripts and courts branch on them.
* stdout carries only the result (a CID, a hash, JSON), so commands compose in pipes;
  messages, errors and progress bars go to stderr.
* Library errors are translated here, once, into a message that says what to do and an
  exit code (`_guard`). The library never prints or exits.
* Messages exist in English and Simplified Chinese (`evidence._i18n`); `CHAINARB_LANG`
  (en|zh) chooses, else `LC_ALL`/`LC_MESSAGES`/`LANG` starting with `zh`. A library
  error's own text is English: the Chinese message says what happened and shows it as
  the detail.
* No message shows the content of a file the user named, nor a hex value they typed:
  a key file with a typo is still a key.
* Private keys never come from a plain command-line argument (it would land in shell
  history and in `ps`): a key file, or an environment variable.
* Heavy imports (web3, eth-account) happen inside the commands that need them, so
  `chainarb evidence cid` starts fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from enum import IntEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, BinaryIO, NoReturn

import typer

from evidence import safejson
from evidence._i18n import CHAIN_MESSAGES, Catalog, bi, lang

if TYPE_CHECKING:  # each command imports what it runs (a fast --help)
    from evidence.ipfs.blockstore import Blockstore
    from evidence.verify import VerificationReport

__all__ = ["ExitCode", "register", "t"]


class ExitCode(IntEnum):
    OK = 0
    VERIFICATION_FAILED = 1
    USAGE = 2
    COULD_NOT_RUN = 3
    MISSING_COMPONENT = 3  # a kind of "could not run"
    UNREADABLE = 4
    IO = 4  # a kind of "cannot be read"


# --- messages ---------------------------------------------------------------------------

_MESSAGES: dict[str, tuple[str, str]] = {
    "no_file": (
        "File not found: {path}. Check the path.",
        "找不到文件：{path}。请检查路径。",
    ),
    "not_a_file": ("Not a regular file: {path}.", "不是普通文件：{path}。"),
    "unreadable": (
        "Cannot read {path}: {err}. Check permissions and the disk.",
        "无法读取 {path}（详情：{err}）。请检查权限和磁盘。",
    ),
    "unwritable": (
        "Cannot write {path}: {err}. Check the directory and free space.",
        "无法写入 {path}（详情：{err}）。请检查目录和剩余空间。",
    ),
    "bad_input": ("Invalid input: {err}", "输入无效（详情：{err}）。"),
    "too_large": ("{path}: larger than {limit} bytes.", "{path}：超过 {limit} 字节。"),
    "key_exists": (
        "{path} exists; refusing to overwrite a key.",
        "{path} 已存在；拒绝覆盖密钥文件。",
    ),
    "not_json": ("{path}: not JSON ({err}).", "{path}：不是 JSON（详情：{err}）。"),
    "not_leaves": (
        "{path}: expected a JSON list of leaves (each a list of values).",
        "{path}：应为叶子的 JSON 列表（每个叶子是一个值列表）。",
    ),
    "index_out_of_range": (
        "--index {index}: the batch has {n} leaves.",
        "--index {index}：该批次只有 {n} 个叶子。",
    ),
    "need_record_or_index": (
        "Give --record R or --index N (one of them).",
        "请提供 --record R 或 --index N（二者之一）。",
    ),
    "using_chain": (
        "No --rpc given: using the chain at {url} ({origin}).",
        "未提供 --rpc：使用 {url} 的区块链（{origin}）。",
    ),
    "no_dir": (
        "Output directory does not exist: {path}. Create it or choose another -o path.",
        "输出目录不存在：{path}。请先创建，或换一个 -o 路径。",
    ),
    "bad_hex": (
        "{what}: expected {n} bytes as hex (0x…), found {chars} characters that are not "
        "that (the value is not shown).",
        "{what}：应为 {n} 字节的十六进制（0x…），实际为 {chars} 个不符合要求的字符（不显示其值）。",
    ),
    "bad_key_file": (
        "{path}: expected a {n}-byte key as hex (0x…); the file's content is not shown.",
        "{path}：应为 {n} 字节的十六进制密钥（0x…）；不显示文件内容。",
    ),
    "bad_keystore": (
        "{path}: cannot open this keystore: wrong password (CHAINARB_KEY_PASSWORD), or not "
        "an Ethereum keystore ({kind}); its content is not shown.",
        "{path}：无法打开该密钥库：密码错误（CHAINARB_KEY_PASSWORD），或不是以太坊密钥库"
        "（{kind}）；不显示其内容。",
    ),
    "bad_cid": (
        "Malformed CID {value!r}: {err}. A CID looks like Qm… (v0) or bafy…/bafk… (v1).",
        "CID 格式错误 {value!r}（详情：{err}）。CID 形如 Qm…（v0）或 bafy…/bafk…（v1）。",
    ),
    "verify_failed": (
        "VERIFICATION FAILED at check '{check}': {detail}",
        "验证失败，未通过的检查项 '{check}'（详情：{detail}）",
    ),
    "expected_found": ("  expected: {expected}\n  found:    {found}",
                       "  预期：{expected}\n  实际：{found}"),
    "verify_ok": ("VERIFIED: every check passed.", "验证通过：所有检查项均已通过。"),
    "verify_ok_offline": (
        "VERIFIED OFFLINE: file, signature and proof are consistent; anchoring was NOT "
        "checked (no chain given).",
        "离线验证通过：文件、签名与证明一致；未检查链上锚定（未提供链）。",
    ),
    "anchored_at": (
        "Anchored on chain {chain_id} in block {block} ({block_hash}) at {time} UTC, "
        "transaction {tx}, contract {contract}; {conf} confirmation(s) now.",
        "已于 {time} UTC 锚定在链 {chain_id} 的区块 {block}（{block_hash}），"
        "交易 {tx}，合约 {contract}；当前确认数 {conf}。",
    ),
    "signed_by": ("Signed by {signers} ({rtype}).", "签名人：{signers}（{rtype}）。"),
    "need_chain": (
        "No chain to check the anchoring against: give --rpc URL (or set "
        "CHAINARB_CHAIN_RPC_URL), or --offline to check only file, signature and proof.",
        "没有可用于检查锚定的链：请提供 --rpc URL（或设置 CHAINARB_CHAIN_RPC_URL），"
        "或使用 --offline 仅检查文件、签名和证明。",
    ),
    "chain_unreachable": (
        "Could not run: cannot reach the chain ({err}).",
        "无法运行：无法连接区块链（详情：{err}）。",
    ),
    "missing_component": (
        "A component is missing: {err}. Install it with: pip install chainarb",
        "缺少组件（详情：{err}）。请安装：pip install chainarb",
    ),
    "no_key": (
        "No signing key: give --key-file FILE, or set the environment variable {env}. "
        "Keys are never taken from a plain command-line argument.",
        "没有签名私钥：请提供 --key-file FILE，或设置环境变量 {env}。"
        "出于安全考虑，私钥不能直接作为命令行参数传入。",
    ),
    "bad_key": (
        "Invalid key in {src}: expected 32 bytes of hex (the value is not shown).",
        "{src} 中的密钥无效：应为 32 字节的十六进制（不显示其值）。",
    ),
    "wrong_key": (
        "This key cannot decrypt the file: {err}",
        "此密钥无法解密该文件（详情：{err}）。",
    ),
    "not_a_recipient": (
        "This key cannot decrypt the file (it is not one of its recipients): {err}",
        "此密钥不是该文件的收件人之一（详情：{err}）。",
    ),
    "tampered": (
        "INTEGRITY CHECK FAILED: {err}. Do not use this file; fetch it again from its source.",
        "完整性校验失败（详情：{err}）。请勿使用此文件，请从来源重新获取。",
    ),
    "not_found_block": (
        "Not in the store: {err}. Add it first, or point --store/--api at the right place.",
        "存储中没有该内容（详情：{err}）。请先添加，或用 --store/--api 指向正确的位置。",
    ),
    "node_error": (
        "Could not run: IPFS node error: {err}",
        "无法运行：IPFS 节点错误（详情：{err}）。",
    ),
    "leaf_not_in_batch": (
        "The record's leaf is not in the batch: {err}",
        "该记录的叶子不在此批次中（详情：{err}）。",
    ),
    "keystore_password": ("Keystore password", "密钥库密码"),
    # the marks of evidence.report.Status (its message_key)
    "mark_passed": ("ok  ", "通过"),
    "mark_failed": ("FAIL", "失败"),
    "mark_skipped": ("skip", "跳过"),
    "mark_not_run": (" -- ", "未运行"),
    "choose_one": ("Give {a} or {b}, not both.", "请只提供 {a} 或 {b} 之一。"),
    "wrote": ("Wrote {path}", "已写入 {path}"),
    "as_record": (
        "{path} is a signed record: verifying the record itself (use --as-file to verify "
        "it as an evidence file).",
        "{path} 是一条已签名记录：将验证该记录本身（如需按证据文件验证请使用 --as-file）。",
    ),
}


_lang = lang
t = Catalog("evidence", _MESSAGES, shared=CHAIN_MESSAGES)


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _die(code: ExitCode, key: str, **kwargs: Any) -> NoReturn:
    _err(t(key, **kwargs))
    raise typer.Exit(int(code))


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """Translate library errors into a message and an exit code (the one place that does)."""
    from evidence.errors import (
        CiphertextTampered,
        DecryptionError,
        EvidenceError,
        NotARecipient,
        TamperedError,
    )
    from evidence.ipfs.errors import (
        BlockNotFoundError,
        CorruptBlockError,
        IpfsError,
        KuboError,
        MalformedCidError,
        UnsupportedCidError,
    )

    try:
        yield
    except typer.Exit:
        raise
    except (CiphertextTampered, TamperedError, CorruptBlockError) as exc:
        _die(ExitCode.VERIFICATION_FAILED, "tampered", err=exc)
    except NotARecipient as exc:
        _die(ExitCode.USAGE, "not_a_recipient", err=exc)
    except DecryptionError as exc:
        _die(ExitCode.USAGE, "wrong_key", err=exc)
    except (MalformedCidError, UnsupportedCidError) as exc:
        _die(ExitCode.USAGE, "bad_input", err=exc)
    except BlockNotFoundError as exc:
        _die(ExitCode.UNREADABLE, "not_found_block", err=exc)
    except KuboError as exc:
        _die(ExitCode.COULD_NOT_RUN, "node_error", err=exc)
    except IpfsError as exc:
        _die(ExitCode.VERIFICATION_FAILED, "tampered", err=exc)
    except EvidenceError as exc:
        if getattr(exc, "code", "") == "chain_unreachable":
            _die(ExitCode.COULD_NOT_RUN, "chain_unreachable", err=exc)
        _die(ExitCode.USAGE, "bad_input", err=exc)
    except ModuleNotFoundError as exc:
        _die(ExitCode.COULD_NOT_RUN, "missing_component", err=exc)
    except OSError as exc:
        path = getattr(exc, "filename", None) or "?"
        _die(ExitCode.UNREADABLE, "unreadable", path=path, err=exc.strerror or exc)


# --- small helpers ----------------------------------------------------------------------


def _input_file(path: Path) -> Path:
    if not path.exists():
        _die(ExitCode.USAGE, "no_file", path=path)
    if not path.is_file():
        _die(ExitCode.USAGE, "not_a_file", path=path)
    return path


def _read_text_input(path: Path, limit: int = 1 << 20) -> bytes:
    _input_file(path)
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        _die(ExitCode.UNREADABLE, "unreadable", path=path, err=exc.strerror or exc)
    if len(data) > limit:
        _die(ExitCode.USAGE, "too_large", path=path, limit=limit)
    return data


def _hex_bytes(value: str, n: int, what: str) -> bytes:
    """`n` bytes from hex; a usage error that never shows the value (it may be a secret)."""
    text = value.strip()
    text = text[2:] if text.lower().startswith("0x") else text
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != n:
        _die(ExitCode.USAGE, "bad_hex", what=what, n=n, chars=len(value.strip()))
    return raw


def _progress_enabled(size: int, flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return size >= 16 * 1024 * 1024 and sys.stderr.isatty()


@contextlib.contextmanager
def _progress(label: str, total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A rich byte-progress bar on stderr; yields `advance(nbytes)`."""
    if not enabled:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


class _CountingReader:
    """A binary reader that reports the bytes it hands out (for progress bars)."""

    def __init__(self, raw: io.RawIOBase, advance: Callable[[int], None]) -> None:
        self._raw = raw
        self._advance = advance

    def readinto(self, buf: memoryview) -> int:
        n = self._raw.readinto(buf)
        if n:
            self._advance(n)
        return n or 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self._advance(len(data))
        return data


@contextlib.contextmanager
def _atomic_output(dst: Path) -> Iterator[BinaryIO]:
    """Write to a temporary file beside `dst`; rename into place only on success."""
    if not dst.parent.is_dir():
        _die(ExitCode.USAGE, "no_dir", path=dst.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=dst.parent or ".", prefix=f".{dst.name}.", suffix=".part")
    except OSError as exc:
        _die(ExitCode.IO, "unwritable", path=dst, err=exc.strerror or exc)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# How an installed component opens a data dir's own store (the backend: its steps' blocks
# are rows of its database, backend/cli.py); an opener answers None when the directory is
# not its configured data dir's, and the plain files are read.
DATA_DIR_STORES: list[Callable[[Path], Blockstore | None]] = []


def _blockstore(store: Path | None, api: str | None) -> Any:
    """The local blockstore (default <data dir>/ipfs, as the service keeps it) or a kubo
    RPC node.

    ``--store`` naming the configured data dir's store is that store, as without
    ``--store``: its steps' blocks are found too, not only its files."""
    if store is not None and api is not None:
        _die(ExitCode.USAGE, "choose_one", a="--store", b="--api")
    if api is not None:
        from evidence.ipfs.kubo import KuboBlockstore

        return KuboBlockstore(api)
    from evidence.ipfs import LocalBlockstore

    root = store if store is not None else \
        Path(os.environ.get("CHAINARB_DATA_DIR", ".chainarb")) / "ipfs"
    for opener in DATA_DIR_STORES:
        found = opener(root)
        if found is not None:
            return found
    return LocalBlockstore(root)


# --- commands ---------------------------------------------------------------------------

FileArg = Annotated[Path, typer.Argument(help="Input file. / 输入文件。", show_default=False)]
ProgressOpt = Annotated[
    bool | None,
    typer.Option("--progress/--no-progress", help="Progress bar on stderr (default: for big "
                 "files on a terminal). / 在标准错误输出显示进度条。"),
]


def cid_cmd(
    file: FileArg,
    cid_version: Annotated[
        int, typer.Option("--cid-version", min=0, max=1, help="0 = `ipfs add`, 1 = "
                          "`ipfs add --cid-version=1` (raw leaves). / CID 版本。")
    ] = 0,
    progress: ProgressOpt = None,
) -> None:
    """Print the file's IPFS CID, identical to kubo's `ipfs add -n`. / 计算文件的 IPFS CID。"""
    from evidence.ipfs import FileImporter

    path = _input_file(file)
    size = path.stat().st_size
    with _guard(), _progress("CID", size, _progress_enabled(size, progress)) as advance:
        importer = FileImporter(cid_version=cid_version)
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        with path.open("rb", buffering=0) as f:
            while n := f.readinto(view):
                importer.write(view[:n])
                advance(n)
        typer.echo(str(importer.finish()))


def hash_cmd(
    file: FileArg,
    salt: Annotated[
        str | None, typer.Option(help="Print the commitment with this 32-byte hex salt. / "
                                 "用此盐值输出承诺值。")
    ] = None,
    commit: Annotated[
        bool, typer.Option("--commit", help="Commit with a fresh random salt; prints JSON "
                           "{sha256, salt, commitment}. Keep the salt confidential. / "
                           "用新随机盐生成承诺（JSON）；盐值须保密。")
    ] = False,
    progress: ProgressOpt = None,
) -> None:
    """Print the SHA-256 (hex) of a file, or its salted commitment. / 计算文件 SHA-256 或承诺值。"""
    if salt is not None and commit:
        _die(ExitCode.USAGE, "choose_one", a="--salt", b="--commit")
    salt_bytes = _hex_bytes(salt, 32, "--salt") if salt is not None else None
    path = _input_file(file)
    from evidence.commitment import commit as make_commit  # after the usage checks: they
    from evidence.commitment import commitment_of  # answer without loading the library
    from evidence.verify import hash_file

    size = path.stat().st_size
    with _guard(), _progress("SHA-256", size, _progress_enabled(size, progress)) as advance:
        digest = hash_file(path, advance)
    if salt_bytes is not None:
        typer.echo("0x" + commitment_of(digest, salt_bytes).hex())
    elif commit:
        opening = make_commit(digest)
        obj = {**opening.to_json_obj(), "commitment": "0x" + opening.commitment.hex()}
        typer.echo(json.dumps(obj, indent=2, sort_keys=True))
    else:
        typer.echo(digest.hex())


def _load_signing_key(key_file: Path | None, key_env: str) -> bytes:
    """A secp256k1 private key from a key file (hex, or an encrypted keystore JSON whose
    password is in CHAINARB_KEY_PASSWORD or typed at a prompt) or an environment variable."""
    if key_file is not None:
        data = _read_text_input(key_file, 64 * 1024).strip()
        src = str(key_file)
        if data.startswith(b"{"):
            from eth_account import Account

            password = os.environ.get("CHAINARB_KEY_PASSWORD")
            if password is None:
                password = typer.prompt(t("keystore_password"), hide_input=True)
            try:
                return bytes(Account.decrypt(data.decode(errors="replace"), password))
            except (ValueError, KeyError, TypeError) as exc:
                # The exception's text may quote the file (a JSON error, a bad field): only
                # its kind is shown.
                _die(ExitCode.USAGE, "bad_keystore", path=key_file, kind=type(exc).__name__)
        text = data.decode(errors="replace")
    else:
        value = os.environ.get(key_env)
        if not value:
            _die(ExitCode.USAGE, "no_key", env=key_env)
        text, src = value, f"${key_env}"
    text = text.strip()
    raw = text[2:] if text.lower().startswith("0x") else text
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != 32:
        _die(ExitCode.USAGE, "bad_key", src=src)
    return key


def sign_cmd(
    record: Annotated[Path, typer.Argument(help="Record JSON (format chainarb.record, "
                                           "signatures may be []). / 记录 JSON。")],
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="Private key: a file with the hex key, or "
                                  "an encrypted Ethereum keystore JSON. / 私钥文件。")
    ] = None,
    key_env: Annotated[
        str, typer.Option("--key-env", help="Environment variable holding the hex key when no "
                          "--key-file is given. / 保存私钥的环境变量名。")
    ] = "CHAINARB_PRIVATE_KEY",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here instead "
                                                "of stdout. / 输出文件。")] = None,
) -> None:
    """Sign a record (EIP-712, as a wallet would) and print it with the signature.
    / 用 EIP-712 对记录签名并输出。"""
    data = _read_text_input(record, 64 * 1024)
    key = _load_signing_key(key_file, key_env)
    with _guard():
        from evidence.records import SignedRecord

        signed = SignedRecord.from_json(data).add_signature(key)
        out = signed.to_json() + b"\n"
        if output is None:
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
        else:
            with _atomic_output(output) as f:
                f.write(out)
            _err(t("wrote", path=output))


def keygen_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the private "
                                         "key (mode 0600). / 私钥输出文件。")],
) -> None:
    """Make an X25519 recipient key for encrypted evidence; prints the public key.
    / 生成用于加密证据的 X25519 收件人密钥，输出公钥。"""
    from evidence.encryption import generate_recipient_key, public_key_bytes

    if output.exists():
        _die(ExitCode.USAGE, "key_exists", path=output)
    key = generate_recipient_key()
    from cryptography.hazmat.primitives import serialization

    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("0x" + raw.hex() + "\n")
    except OSError as exc:
        _die(ExitCode.IO, "unwritable", path=output, err=exc.strerror or exc)
    typer.echo("0x" + public_key_bytes(key).hex())


def _recipient_private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    text = _read_text_input(path, 4096).decode(errors="replace").strip()
    text = text[2:] if text.lower().startswith("0x") else text
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        _die(ExitCode.USAGE, "bad_key_file", path=path, n=32)
    return X25519PrivateKey.from_private_bytes(raw)


def _wraps_path(container: Path, wraps: Path | None) -> Path:
    return wraps if wraps is not None else container.with_name(container.name + ".keys.json")


def encrypt_cmd(
    file: FileArg,
    to: Annotated[list[str], typer.Option("--to", help="Recipient X25519 public key (32 bytes "
                                          "hex); repeat for each reader. / 收件人公钥，可重复。")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Encrypted container. / "
                                         "加密输出文件。")],
    wraps: Annotated[Path | None, typer.Option(help="Key wraps file (default OUT.keys.json). / "
                                               "密钥封装文件。")] = None,
    progress: ProgressOpt = None,
) -> None:
    """Encrypt a file (AES-256-GCM, chunked) for the given recipients; prints a JSON summary.
    / 为指定收件人加密文件。"""
    from evidence.encryption import (
        DEFAULT_CHUNK_SIZE,
        KeyWraps,
        encrypt_stream,
        generate_data_key,
    )

    recipients = [_hex_bytes(r, 32, "--to") for r in to]
    path = _input_file(file)
    wraps_out = _wraps_path(output, wraps)
    size = path.stat().st_size
    data_key = generate_data_key()
    with _guard(), _progress("encrypt", size, _progress_enabled(size, progress)) as advance:
        with path.open("rb", buffering=0) as raw, _atomic_output(output) as out:
            result = encrypt_stream(_CountingReader(raw, advance), out, data_key,
                                    DEFAULT_CHUNK_SIZE)
        key_wraps = KeyWraps.create(data_key, result.header, recipients)
        with _atomic_output(wraps_out) as f:
            f.write(key_wraps.to_json() + b"\n")
    summary = {
        "container": str(output),
        "wraps": str(wraps_out),
        "headerHash": "0x" + result.header.hash.hex(),
        "plaintextSha256": "0x" + result.plaintext_sha256.hex(),
        "plaintextSize": result.plaintext_size,
        "recipients": ["0x" + r.hex() for r in key_wraps.recipients()],
    }
    typer.echo(json.dumps(summary, indent=2))


def decrypt_cmd(
    file: FileArg,
    key: Annotated[Path, typer.Option("--key", help="File with your X25519 private key (hex). "
                                      "/ 你的 X25519 私钥文件。")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Plaintext output; written only "
                                         "if the whole file authenticates. / 明文输出。")],
    wraps: Annotated[Path | None, typer.Option(help="Key wraps file (default FILE.keys.json). "
                                               "/ 密钥封装文件。")] = None,
    progress: ProgressOpt = None,
) -> None:
    """Decrypt a container; nothing is written unless every chunk authenticates.
    / 解密文件；只有全部分块通过认证才会写出。"""
    from evidence.encryption import HEADER_SIZE, Header, KeyWraps, decrypt_stream

    path = _input_file(file)
    wraps_in = _input_file(_wraps_path(path, wraps))
    private_key = _recipient_private_key(_input_file(key))
    size = path.stat().st_size
    with _guard():
        key_wraps = KeyWraps.from_json(_read_text_input(wraps_in))
        with path.open("rb", buffering=0) as raw:
            header = Header.from_bytes(raw.read(HEADER_SIZE))
            if header.hash != key_wraps.header_hash:
                from evidence.errors import DecryptionError

                raise DecryptionError(
                    f"the key wraps {wraps_in} belong to another container (header hash "
                    f"0x{key_wraps.header_hash.hex()}, this file's 0x{header.hash.hex()})"
                )
            data_key = key_wraps.unwrap(private_key)
            raw.seek(0)
            with _progress("decrypt", size, _progress_enabled(size, progress)) as advance, \
                    _atomic_output(output) as out:
                result = decrypt_stream(_CountingReader(raw, advance), out, data_key)
    _err(t("wrote", path=output))
    typer.echo(json.dumps({"plaintextSha256": "0x" + result.plaintext_sha256.hex(),
                           "plaintextSize": result.plaintext_size}, indent=2))


StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Local blockstore directory (default "
                 "$CHAINARB_DATA_DIR/ipfs). / 本地块存储目录。"),
]
ApiOpt = Annotated[str | None, typer.Option("--api", help="kubo RPC API URL, e.g. "
                                            "http://127.0.0.1:5001. / kubo RPC 地址。")]


def add_cmd(
    file: FileArg,
    store: StoreOpt = None,
    api: ApiOpt = None,
    cid_version: Annotated[int, typer.Option("--cid-version", min=0, max=1, help=bi(
        "0 = `ipfs add`, 1 = `ipfs add --cid-version=1` (raw leaves).", "CID 版本。"))] = 0,
    progress: ProgressOpt = None,
) -> None:
    """Add a file to the local blockstore or a kubo node; prints its CID.
    / 将文件添加到本地块存储或 kubo 节点，输出 CID。"""
    path = _input_file(file)
    size = path.stat().st_size
    with _guard():
        bs = _blockstore(store, api)
        with _progress("add", size, _progress_enabled(size, progress)) as advance, \
                path.open("rb", buffering=0) as f:
            if api is not None:  # kubo: upload once, CID checked against ours
                with bs:
                    cid = bs.add(_CountingReader(f, advance), cid_version=cid_version)
                typer.echo(str(cid))
                return
            from evidence.ipfs import FileImporter

            importer = FileImporter(cid_version=cid_version, blockstore=bs)
            buf = bytearray(1 << 20)
            view = memoryview(buf)
            while n := f.readinto(view):
                importer.write(view[:n])
                advance(n)
        typer.echo(str(importer.finish()))


def cat_cmd(
    cid: Annotated[str, typer.Argument(help="The CID to read. / 要读取的 CID。")],
    store: StoreOpt = None,
    api: ApiOpt = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help=bi(
        "Write here (only if every block verifies) instead of stdout.",
        "写入此文件（仅当每个数据块都通过校验），而不是标准输出。"))] = None,
) -> None:
    """Write a file's content, every block checked against its CID. / 读取内容并逐块校验。"""
    with _guard():
        from evidence.ipfs._cid import parse_cid

        parse_cid(cid)  # a malformed CID is a usage error before any store is opened
        from evidence.ipfs import cat

        bs = _blockstore(store, api)
        try:
            chunks = cat(cid, bs)
            if output is None:
                out: IO[bytes] = sys.stdout.buffer
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
            else:
                with _atomic_output(output) as f:
                    for chunk in chunks:
                        f.write(chunk)
        finally:
            if hasattr(bs, "close"):  # a kubo client's connections
                bs.close()


def _load_batch(path: Path) -> Any:
    """A Merkle batch: an OpenZeppelin `standard-v1` dump, a JSON list of leaves, or one
    signed record (chainarb.record JSON) per line."""
    from evidence.merkle import StandardMerkleTree, record_leaf
    from evidence.records import SignedRecord

    data = _read_text_input(path, 256 * 1024 * 1024)
    text = data.lstrip()
    if text.startswith(b"{") and b'"chainarb.record"' not in text[:4096]:
        return StandardMerkleTree.load(data)
    if text.startswith(b"["):
        try:  # bounded: size and depth before parsing (its messages name the file)
            parsed = safejson.loads(data, what=str(path), max_bytes=len(data))
        except ValueError as exc:
            _die(ExitCode.USAGE, "bad_input", err=str(exc))
        rows = [v for v in parsed if isinstance(v, list)] if isinstance(parsed, list) else []
        if not isinstance(parsed, list) or len(rows) != len(parsed):
            _die(ExitCode.USAGE, "not_leaves", path=path)
        return StandardMerkleTree.of(rows)
    leaves = []
    for line in data.splitlines():
        if line.strip():
            rec = SignedRecord.from_json(line)
            leaves.append(record_leaf(rec.record.case_id, rec.record_hash,
                                      rec.signatures_hash))
    return StandardMerkleTree.of(leaves)


def _load_opening(path: Path) -> Any:
    """An opening {"salt", "sha256"}, also as `hash --commit` prints it (with its
    "commitment", which must then match)."""
    from evidence.commitment import Opening
    from evidence.errors import FormatError

    obj = safejson.loads(_read_text_input(path, 4096), what=str(path), max_bytes=4096)
    claimed = obj.pop("commitment", None) if isinstance(obj, dict) else None
    opening = Opening.from_json_obj(obj)
    if claimed is not None and str(claimed).lower() != "0x" + opening.commitment.hex():
        raise FormatError(
            f"{path}: its commitment {claimed} does not match its salt and sha256 "
            f"(they give 0x{opening.commitment.hex()})"
        )
    return opening


def prove_cmd(
    batch: Annotated[Path, typer.Option("--batch", help="The batch: an OpenZeppelin "
                                        "standard-v1 tree dump, a JSON list of leaves, or "
                                        "signed records one per line. / 批次文件。")],
    contract: Annotated[str, typer.Option("--contract", help="EvidenceAnchor address. / "
                                          "锚定合约地址。")],
    chain_id: Annotated[int, typer.Option("--chain-id", min=1, help="Chain id. / 链 ID。")],
    record: Annotated[Path | None, typer.Option("--record", help="The item's signed record: "
                                                "its leaf is proven and it is embedded. / "
                                                "该条目的签名记录。")] = None,
    index: Annotated[int | None, typer.Option("--index", min=0, help="Or: the leaf's index "
                                              "in the batch. / 或叶子序号。")] = None,
    opening: Annotated[Path | None, typer.Option("--opening", help="Embed the commitment "
                                                 "opening {salt, sha256} (confidential). / "
                                                 "嵌入承诺打开值（保密）。")] = None,
    tx: Annotated[str | None, typer.Option("--tx", help="Anchoring transaction hash. / "
                                           "锚定交易哈希。")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help=bi(
        "Write here instead of stdout.", "写入此文件，而不是标准输出。"))] = None,
) -> None:
    """Build the proof file of one item of an anchored batch. / 为批次中的一个条目生成证明文件。"""
    from evidence.merkle import record_leaf
    from evidence.records import SignedRecord
    from evidence.verify import ProofFile

    if (record is None) == (index is None):
        _die(ExitCode.USAGE, "need_record_or_index")
    tx_hash = _hex_bytes(tx, 32, "--tx") if tx is not None else None
    with _guard():
        tree = _load_batch(batch)
        signed = None
        if record is not None:
            signed = SignedRecord.from_json(_read_text_input(record, 64 * 1024))
            leaf = record_leaf(signed.record.case_id, signed.record_hash,
                               signed.signatures_hash)
            from evidence.errors import ProofError

            try:
                index = tree.index_of(leaf)
            except ProofError as exc:
                _die(ExitCode.USAGE, "leaf_not_in_batch", err=exc)
        assert index is not None
        if index >= len(tree):
            _die(ExitCode.USAGE, "index_out_of_range", index=index, n=len(tree))
        open_obj = None
        if opening is not None:
            open_obj = _load_opening(opening)
        proof = ProofFile.build(tree, index, chain_id=chain_id, contract=contract,
                                tx_hash=tx_hash, record=signed, opening=open_obj)
        out = proof.to_json()
        if output is None:
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
        else:
            with _atomic_output(output) as f:
                f.write(out)
            _err(t("wrote", path=output))


def _discover_chain(rpc: str | None) -> Any:
    """The chain to verify against: `evidence.chain.discover_chain`, the one discovery every
    command uses (--rpc, $CHAINARB_CHAIN_RPC_URL, the data dir's embedded node, an installed
    component's chain). None when there is none; a usage error for a bad URL."""
    from evidence.chain import (
        LEGACY_RPC_ENV,
        RPC_ENV,
        ConfiguredChainError,
        InvalidRpcUrl,
        discover_chain,
    )

    if rpc is None and os.environ.get(LEGACY_RPC_ENV) and not os.environ.get(RPC_ENV):
        _err(t("legacy_env"))
    try:
        found = discover_chain(rpc)
    except InvalidRpcUrl as exc:
        _die(ExitCode.USAGE, "rpc_invalid", source=exc.source, value=exc.value)
    except ConfiguredChainError as exc:
        _die(ExitCode.COULD_NOT_RUN, "chain_unreachable", err=exc)
    if found is not None and found.origin != "option":
        url = found.url or getattr(found.w3.provider, "endpoint_uri", None) or "—"
        _err(t("using_chain", url=url, origin=t("origin_" + found.origin)))
    return found.w3 if found is not None else None


def _looks_like_record(path: Path) -> bytes | None:
    try:
        if path.stat().st_size > 64 * 1024:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    head = data.lstrip()[:1]
    if head != b"{" or b'"chainarb.record"' not in data:
        return None
    return data


def verify_cmd(
    proof: Annotated[Path, typer.Option("--proof", help="Proof file (chainarb.proof). / "
                                        "证明文件。")],
    file: Annotated[Path | None, typer.Argument(help="The evidence file, or a signed record "
                                                "JSON; omit to verify the proof's record. / "
                                                "证据文件或签名记录。")] = None,
    rpc: Annotated[str | None, typer.Option("--rpc", help=bi(
        "JSON-RPC URL of a node of the anchor's chain. Default: $CHAINARB_CHAIN_RPC_URL, else "
        "the embedded chain of $CHAINARB_DATA_DIR.",
        "锚定所在链的节点 JSON-RPC 地址。默认：$CHAINARB_CHAIN_RPC_URL，否则为 $CHAINARB_DATA_DIR "
        "的内置链。"))] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Skip the chain checks. / "
                                          "跳过链上检查。")] = False,
    record: Annotated[Path | None, typer.Option("--record", help="The signed record, if the "
                                                "proof file does not embed it. / 签名记录。")
                      ] = None,
    salt: Annotated[str | None, typer.Option("--salt", help="Commitment salt, if the proof "
                                             "file has no opening. / 承诺盐值。")] = None,
    signer: Annotated[list[str] | None, typer.Option("--signer", help="Expected signer "
                                                     "address (repeatable). / 预期签名人。")
                      ] = None,
    as_file: Annotated[bool, typer.Option("--as-file", help=bi(
        "Treat FILE as an evidence file even if it is a record JSON.",
        "即使 FILE 是记录 JSON，也按证据文件处理。"))] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON. / "
                                          "以 JSON 输出报告。")] = False,
    progress: ProgressOpt = None,
) -> None:
    """Verify that a file or record was signed and anchored: names the first failing check.
    / 验证文件或记录的签名与链上锚定，失败时指出未通过的检查项。

    Exit codes / 退出码: 0 verified / 通过; 1 a check failed / 有检查项未通过; 2 usage error /
    用法错误; 3 could not run (node down, component missing) / 无法运行（节点无响应、缺少组件）;
    4 an input cannot be read / 无法读取输入.
    """
    from evidence.records import SignedRecord
    from evidence.verify import ProofFile, verify

    proof_data = _read_text_input(proof, 256 * 1024)
    chain = None
    if not offline:
        with _guard():
            chain = _discover_chain(rpc)
        if chain is None:
            _die(ExitCode.USAGE, "need_chain")
    salt_bytes = _hex_bytes(salt, 32, "--salt") if salt is not None else None
    with _guard():
        proof_file = ProofFile.from_json(proof_data)
        signed = None
        if record is not None:
            signed = SignedRecord.from_json(_read_text_input(record, 64 * 1024))
        target: Path | None = None
        if file is not None:
            _input_file(file)
            record_data = None if as_file or signed is not None else _looks_like_record(file)
            if record_data is not None:
                _err(t("as_record", path=file))
                signed = SignedRecord.from_json(record_data)
            else:
                target = file
        size = target.stat().st_size if target is not None else 0
        with _progress("SHA-256", size, _progress_enabled(size, progress)) as advance:
            report = verify(
                proof_file,
                file=target,
                record=signed,
                salt=salt_bytes,
                expected_signers=signer or None,
                chain=chain,
                progress=advance,
            )
    _print_report(report, as_json)
    if not report.ok:
        raise typer.Exit(int(ExitCode.VERIFICATION_FAILED))


def _print_report(report: VerificationReport, as_json: bool) -> None:
    from datetime import UTC, datetime

    if as_json:
        typer.echo(json.dumps(report.to_json_obj(), indent=2))
    else:
        for r in report.checks:
            line = f"[{t(r.status.message_key)}] {r.name:<16} {r.reason}"
            typer.echo(line.rstrip())
    failed = report.failure
    if failed is not None:
        _err(t("verify_failed", check=failed.name, detail=failed.reason))
        if failed.expected is not None or failed.found is not None:
            _err(t("expected_found", expected=failed.expected, found=failed.found))
        return
    if report.signers:
        _err(t("signed_by", signers=", ".join(report.signers), rtype=report.record_type))
    a = report.anchoring
    if a is None:
        _err(t("verify_ok_offline"))
        return
    when = datetime.fromtimestamp(a.timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
    _err(t("anchored_at", chain_id=a.chain_id, block=a.block_number,
           block_hash="0x" + a.block_hash.hex(), time=when, tx="0x" + a.tx_hash.hex(),
           contract=a.contract, conf="?" if a.confirmations is None else a.confirmations))
    _err(t("verify_ok"))


def register(evidence_app: typer.Typer) -> None:
    """Add the commands to `chainarb evidence`."""
    evidence_app.command("cid")(cid_cmd)
    evidence_app.command("hash")(hash_cmd)
    evidence_app.command("sign")(sign_cmd)
    evidence_app.command("keygen")(keygen_cmd)
    evidence_app.command("encrypt")(encrypt_cmd)
    evidence_app.command("decrypt")(decrypt_cmd)
    evidence_app.command("add")(add_cmd)
    evidence_app.command("cat")(cat_cmd)
    evidence_app.command("prove")(prove_cmd)
    evidence_app.command("verify")(verify_cmd)
