"""The kubo RPC backend against a real IPFS node (Helia, scripts/ipfs-node.mjs) on loopback,
and against fake nodes that lie."""

from __future__ import annotations

import hashlib
import json
import random
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from evidence.ipfs import (
    CHUNK_SIZE,
    CorruptBlockError,
    FileImporter,
    KuboBlockstore,
    KuboError,
    KuboMismatchError,
    LocalBlockstore,
    add_bytes,
    add_file,
    cat,
    export_car,
    import_car,
)
from tests.ipfs_node import IpfsNode, running_ipfs_node

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests/vectors/kubo_cids.json").read_text())["vectors"]


@pytest.fixture(scope="module")
def ipfs_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsNode]:
    """A Helia node serving the kubo RPC API on 127.0.0.1, port chosen by the OS."""
    with running_ipfs_node(tmp_path_factory.mktemp("ipfs")) as node:
        yield node


@pytest.fixture
def kubo(ipfs_node: IpfsNode) -> Iterator[KuboBlockstore]:
    with KuboBlockstore(ipfs_node.url) as client:
        yield client


pytestmark = pytest.mark.node


def test_node_listens_on_loopback_only(ipfs_node: IpfsNode, kubo: KuboBlockstore) -> None:
    assert ipfs_node.url.startswith("http://127.0.0.1:")
    assert kubo.version()
    assert httpx.get(f"{ipfs_node.url}/api/v0/version").status_code == 405  # POST only, as kubo


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
@pytest.mark.parametrize("version", [0, 1])
def test_add_gives_kubo_cids_and_cat_verifies(
    kubo: KuboBlockstore, vector: dict, version: int
) -> None:
    data = (
        bytes.fromhex(vector["input_hex"])
        if "input_hex" in vector
        else bytes(i % 251 for i in range(1_000_000))
    )
    cid = kubo.add(data, cid_version=version)
    assert str(cid) == vector[f"cid_v{version}"]
    assert b"".join(kubo.cat(cid)) == data
    assert kubo.is_pinned(cid)


def test_add_file_and_stream_deep_enough(kubo: KuboBlockstore, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(random.Random(1).randbytes(7 * CHUNK_SIZE + 999))
    for version in (0, 1):
        by_path = kubo.add(src, cid_version=version)
        with open(src, "rb") as stream:
            by_stream = kubo.add(stream, cid_version=version, pin=False)
        assert by_path == by_stream == add_file(src, cid_version=version)
        assert hashlib.sha256(b"".join(kubo.cat(by_path))).digest() == hashlib.sha256(
            src.read_bytes()
        ).digest()


def test_node_honours_kubo_add_parameters(ipfs_node: IpfsNode) -> None:
    """chunker, cid-version and raw-leaves reach the node's importer (as in kubo)."""
    data = random.Random(5).randbytes(5000)
    for version in (0, 1):
        importer = FileImporter(cid_version=version, chunk_size=1000, max_links=174)
        importer.write(data)
        answer = httpx.post(
            f"{ipfs_node.url}/api/v0/add",
            params={"cid-version": version, "chunker": "size-1000", "pin": "False"},
            files={"file": ("f", data)},
        ).json()
        assert answer["Hash"] == str(importer.finish())
    refused = httpx.post(
        f"{ipfs_node.url}/api/v0/add", params={"chunker": "rabin"}, files={"file": ("f", b"x")}
    )
    assert refused.status_code == 500 and "chunker" in refused.json()["Message"]


def test_node_is_a_blockstore_for_the_importer(ipfs_node: IpfsNode, kubo: KuboBlockstore) -> None:
    """add_file(..., blockstore=KuboBlockstore) stores via block/put; the node's own
    UnixFS reader (/api/v0/cat) then reads the file we built."""
    data = random.Random(2).randbytes(3 * CHUNK_SIZE + 5)
    for version in (0, 1):
        root = add_bytes(data, cid_version=version, blockstore=kubo)
        assert kubo.has(root)
        served = httpx.post(f"{ipfs_node.url}/api/v0/cat", params={"arg": str(root)}).content
        assert served == data
        kubo.pin(root)
        kubo.pin(root)  # idempotent, as in kubo
        assert kubo.is_pinned(root)
        assert any(p.raw_digest == root.raw_digest for p in kubo.pins())
    assert not kubo.has(add_bytes(b"never stored"))
    assert not kubo.is_pinned(add_bytes(b"never stored"))


def test_car_from_the_node_into_the_local_store(kubo: KuboBlockstore, tmp_path: Path) -> None:
    data = random.Random(3).randbytes(2 * CHUNK_SIZE + 1)
    root = kubo.add(data, cid_version=1)
    with open(tmp_path / "x.car", "wb") as out:
        assert export_car([root], kubo, out) == 4
    local = LocalBlockstore(tmp_path / "local")
    with open(tmp_path / "x.car", "rb") as f:
        assert import_car(f, local) == [root]
    assert b"".join(cat(root, local)) == data


def test_corrupted_block_on_the_node_is_detected(ipfs_node: IpfsNode, kubo: KuboBlockstore) -> None:
    data = random.Random(4).randbytes(2 * CHUNK_SIZE + 10)
    root = kubo.add(data, cid_version=1)
    leaf = add_bytes(data[CHUNK_SIZE : 2 * CHUNK_SIZE], cid_version=1)
    path = ipfs_node.block_file(leaf)
    raw = bytearray(path.read_bytes())
    raw[7] ^= 0xFF
    path.write_bytes(raw)
    # the node itself serves the damaged bytes …
    served = httpx.post(f"{ipfs_node.url}/api/v0/cat", params={"arg": str(root)}).content
    assert len(served) == len(data) and served != data
    # … we never do
    with pytest.raises(CorruptBlockError, match=str(leaf)):
        kubo.get(leaf)
    received = []
    with pytest.raises(CorruptBlockError):
        for piece in kubo.cat(root):
            received.append(piece)
    assert b"".join(received) == data[:CHUNK_SIZE]


def test_node_errors_are_kubo_errors(kubo: KuboBlockstore) -> None:
    with pytest.raises(KuboError, match="not found"):
        kubo.get(add_bytes(b"absent"))
    with pytest.raises(KuboError, match=r"is not pinned|not found"):
        kubo.pin(add_bytes(b"absent too"))


def test_ipfshttpclient_speaks_to_the_same_node(ipfs_node: IpfsNode) -> None:
    """The test node answers the de-facto Python client too (kubo's wire dialect)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ipfshttpclient

        port = ipfs_node.url.rsplit(":", 1)[1]
        client = ipfshttpclient.Client(f"/ip4/127.0.0.1/tcp/{port}/http")
        try:
            assert client.add_bytes(b"hello\n") == VECTORS[0]["cid_v0"]
            assert client.cat(VECTORS[0]["cid_v0"]) == b"hello\n"
        finally:
            client.close()


# --- fake nodes that lie or fail ----------------------------------------------------------


def fake(handler: Callable[[httpx.Request], httpx.Response]) -> KuboBlockstore:
    transport = httpx.MockTransport(handler)
    return KuboBlockstore("http://kubo.test:5001", client=httpx.Client(transport=transport))


def test_node_answering_another_cid_is_caught() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        answer = {"Name": "f", "Hash": VECTORS[1]["cid_v0"], "Size": "6"}
        return httpx.Response(200, text=json.dumps(answer))

    with pytest.raises(KuboMismatchError, match=VECTORS[0]["cid_v0"]):
        fake(handler).add(b"hello\n")


def test_node_serving_other_bytes_is_caught() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"goodbye\n")

    cid = add_bytes(b"hello\n", cid_version=1)
    with pytest.raises(CorruptBlockError, match=str(cid)):
        fake(handler).get(cid)
    with pytest.raises(CorruptBlockError):
        b"".join(fake(handler).cat(cid))


def test_node_storing_a_block_under_another_key_is_caught() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        return httpx.Response(200, json={"Key": VECTORS[1]["cid_v1"], "Size": 6})

    with pytest.raises(KuboMismatchError):
        add_bytes(b"hello\n", cid_version=1, blockstore=fake(handler))


def test_kubo_error_message_and_unreachable_node() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {"Message": "merkledag: not found", "Code": 0, "Type": "error"}
        return httpx.Response(500, json=error)

    with pytest.raises(KuboError, match="merkledag: not found"):
        fake(handler).get(add_bytes(b"x"))
    closed_port = KuboBlockstore("http://127.0.0.1:9", timeout=2)
    with closed_port, pytest.raises(KuboError, match="cannot reach"):
        closed_port.version()


def test_url_forms() -> None:
    assert KuboBlockstore("/ip4/127.0.0.1/tcp/5001").url == "http://127.0.0.1:5001"
    assert KuboBlockstore("/ip4/127.0.0.1/tcp/5001/https").url == "https://127.0.0.1:5001"
    assert KuboBlockstore("http://127.0.0.1:5001/").url == "http://127.0.0.1:5001"
    with pytest.raises(ValueError, match="multiaddr"):
        KuboBlockstore("127.0.0.1:5001")
