"""Performance evidence's pure parts and configuration (docs/performance-evidence.md).

``CHAINARB_WEBHOOK_SENDERS`` read from the environment and acted on; every refusal of a
sender's configuration; the event format's refusals; the three signature schemes signed by
the carrier simulator (which stands in for a real carrier) and verified by the service's
code; the facts the pre-evaluation reads; the simulator's command line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from backend.performance import (
    EventType,
    MalformedEvent,
    RecordedEvent,
    Scheme,
    SenderConfig,
    WebhookRefused,
    check_window,
    parse_event,
    performance_facts,
    verify_signature,
)
from backend.performance.simulator import CarrierSimulator, main
from backend.procedure import EvidenceKind, TrackingStatus
from backend.settings import Settings
from tests.support.migrated import migrated
from tests.support.world import ORDER_ID, World, make_world

T = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def env_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
              ) -> Iterator[tuple[World, CarrierSimulator]]:

    sim = CarrierSimulator.new("env-express", Scheme.ED25519)
    monkeypatch.setenv("CHAINARB_WEBHOOK_SENDERS", json.dumps([sim.config_json(
        name="Env Express", name_zh="环境快递", window_seconds=60)]))
    senders = Settings().webhook_senders  # as `chainarb serve` reads them
    url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path, webhook_senders=senders)
    sim.clock = lambda: w.clock().timestamp()
    with w.client:
        yield w, sim


def test_webhook_senders_from_the_environment(env_world: tuple[World, CarrierSimulator]
                                              ) -> None:
    w, sim = env_world
    r = sim.send(w.client, sim.event(ORDER_ID, "ENV1", "shipped"))
    assert r.status_code == 201, r.text
    assert r.json()["origin"]["sender"] == {
        "id": "env-express", "name": "Env Express", "nameZh": "环境快递",
        "scheme": "ed25519", "keyId": sim.config().public_key}
    # window_seconds=60 from the environment: 61 s old is stale
    old = int(w.clock().timestamp()) - 61
    r = sim.send(w.client, sim.event(ORDER_ID, "ENV1", "in_transit"), timestamp=old)
    assert r.status_code == 401 and r.json()["code"] == "webhook_stale"
    # a sender the environment does not name
    ghost = CarrierSimulator.new("ghost", Scheme.ED25519, lambda: w.clock().timestamp())
    r = ghost.send(w.client, ghost.event(ORDER_ID, "G", "lost"))
    assert r.status_code == 401 and r.json()["code"] == "webhook_unknown_sender"


GOOD: dict[str, Any] = {"id": "sf", "name": "SF Express", "name_zh": "顺丰速运",
                        "scheme": "hmac-sha256", "secret": "s" * 32}


@pytest.mark.parametrize(("change", "why"), [
    ({"scheme": "ed25519"}, "takes exactly 'public_key'"),
    ({"public_key": "0x" + "11" * 32}, "takes exactly 'secret'"),
    ({"secret": "short"}, "shorter than 32"),
    ({"id": "SF Express"}, "lower-case letters"),
    ({"scheme": "ed25519", "secret": None, "public_key": "0x1234"}, "64 hex digits"),
    ({"scheme": "secp256k1", "secret": None, "address": "0x12"}, "not an EVM address"),
    ({"window_seconds": 0}, "greater than or equal to 1"),
    ({"events": []}, "at least 1"),
    ({"events": ["teleported"]}, "shipped"),
    ({"name_zh": ""}, "at least 1 character"),
    ({"colour": "red"}, "Extra inputs"),
])
def test_a_senders_configuration_is_checked(change: dict[str, Any], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        SenderConfig(**{k: v for k, v in (GOOD | change).items() if v is not None})


def test_a_sender_id_is_configured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINARB_WEBHOOK_SENDERS", json.dumps([GOOD, GOOD]))
    with pytest.raises(ValidationError, match="names the sender 'sf' twice"):
        Settings()


def test_a_secp256k1_address_is_checksummed() -> None:
    sim = CarrierSimulator.new("k1", Scheme.SECP256K1)
    address = sim.config().address
    assert address is not None
    lower = address.lower()
    cfg = SenderConfig(id="k1", name="K", name_zh="K", scheme="secp256k1", address=lower)
    assert cfg.address == sim.config().address


@pytest.mark.parametrize("scheme", list(Scheme))
def test_each_scheme_verifies_its_own_signature_only(scheme: Scheme) -> None:
    sim = CarrierSimulator.new("sim", scheme, lambda: T.timestamp())
    cfg = sim.config()
    _path, headers, body = sim.request(sim.event(ORDER_ID, "S", "shipped"))
    ts, sig = headers["Chainarb-Timestamp"], headers["Chainarb-Signature"]
    verify_signature(cfg, ts, body, sig)
    for bad in ((cfg, ts, body + b" ", sig), (cfg, str(int(ts) + 1), body, sig),
                (CarrierSimulator.new("sim", scheme).config(), ts, body, sig),
                # a changed byte of the signature itself (r for secp256k1: its last byte, v,
                # may be written 0/1 or 27/28 for the same signature)
                (cfg, ts, body, sig[:10] + ("0" if sig[10] != "0" else "1") + sig[11:])):
        with pytest.raises(WebhookRefused) as refused:
            verify_signature(*bad)
        assert refused.value.code == "webhook_forged"
    with pytest.raises(WebhookRefused) as refused:
        verify_signature(cfg, ts, body, None)
    assert refused.value.code == "webhook_unsigned"


def test_the_window_is_symmetric_and_needs_unix_seconds() -> None:
    cfg = SenderConfig(**GOOD | {"window_seconds": 5})
    now = int(T.timestamp())
    assert check_window(cfg, str(now - 5), now) == now - 5
    assert check_window(cfg, str(now + 5), now) == now + 5
    for ts in (str(now - 6), str(now + 6), "2026-11-24T08:00:00Z", "", "-1"):
        with pytest.raises(WebhookRefused) as refused:
            check_window(cfg, ts, now)
        assert refused.value.code == "webhook_stale"


EVENT = {"eventId": "sf:1:1", "orderId": "7", "shipment": "SF1", "sequence": 1,
         "type": "shipped", "occurredAt": "2026-11-24T07:00:00Z"}


@pytest.mark.parametrize(("change", "why"), [
    ({"sequence": 0}, "sequence"), ({"sequence": True}, "sequence"),
    ({"sequence": "1"}, "sequence"), ({"type": "teleported"}, "type"),
    ({"orderId": 7}, "orderId"), ({"orderId": "-7"}, "orderId"),
    ({"occurredAt": "2026-11-24 07:00"}, "occurredAt"),
    ({"occurredAt": "2026-13-40T07:00:00Z"}, "occurredAt"),
    ({"eventId": ""}, "eventId"), ({"eventId": "a b"}, "eventId"),
    ({"shipment": "x" * 65}, "shipment"), ({"location": "a\nb"}, "location"),
    ({"note": "n" * 501}, "note"), ({"extra": 1}, "unknown field"),
    ({"type": "delivered_signed"}, "signedBy"),
])
def test_the_event_format_names_what_does_not_fit(change: dict[str, Any], why: str) -> None:
    with pytest.raises(MalformedEvent, match=why):
        parse_event(json.dumps(EVENT | change).encode())
    missing = dict(EVENT)
    del missing["shipment"]
    with pytest.raises(MalformedEvent, match="missing field"):
        parse_event(missing)


def test_an_event_round_trips() -> None:
    event = parse_event(json.dumps(EVENT | {"location": "深圳", "note": "n"}).encode())
    assert event.occurred_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert event.to_json_obj() == EVENT | {"location": "深圳", "note": "n"}


BUYER, SELLER = "0x" + "b" * 40, "0x" + "5" * 40


def _ev(n: int, kind: str, verified: bool = True, who: str = "", hour: int = 0
        ) -> RecordedEvent:
    return RecordedEvent(item_id=n, type=EventType(kind), origin_verified=verified,
                         submitter=who, occurred_at=T.replace(hour=hour))


def test_tracking_is_the_latest_origin_verified_forward_event() -> None:
    facts = performance_facts([
        _ev(1, "shipped", hour=1), _ev(2, "delivered_signed", hour=5),
        _ev(3, "in_transit", hour=3),  # earlier, recorded later: not the latest
        _ev(4, "return_shipped", hour=9), _ev(5, "inspected", hour=9),  # not the forward leg
        _ev(6, "lost", verified=False, who=BUYER, hour=10),  # a party's claim never sets it
    ], buyer=BUYER, seller=SELLER)
    assert facts.tracking is TrackingStatus.DELIVERED_SIGNED and facts.tracking_item == 2
    assert facts.buyer_kinds == frozenset() and facts.seller_kinds == frozenset()
    own = performance_facts([_ev(1, "delivered", verified=False, who=SELLER),
                             _ev(2, "shipped", verified=False, who=SELLER)],
                            buyer=BUYER, seller=SELLER)
    assert own.tracking is TrackingStatus.NO_TRACKING and own.tracking_item is None
    assert own.seller_kinds == {EvidenceKind.DELIVERY_CONFIRMATION,
                                EvidenceKind.TRACKING_RECORD}
    for kind, status in (("lost", "lost"), ("damaged", "damaged"), ("delivered", "delivered"),
                         ("returned_to_sender", "returned_to_sender"),
                         ("delivery_failed", "in_transit")):
        assert performance_facts([_ev(1, kind)], buyer=BUYER, seller=SELLER).tracking == status


def test_the_simulator_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:

    key = tmp_path / "sim.key"
    assert main(["config", "--sender", "cli-express", "--scheme", "hmac-sha256",
                 "--key-file", str(key)]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["secret"] == key.read_text() and oct(key.stat().st_mode)[-3:] == "600"
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path, webhook_senders=[SenderConfig(**cfg)])
    with w.client:
        import httpx
        monkeypatch.setattr(httpx, "Client", lambda **_kw: w.client)
        monkeypatch.setattr("backend.performance.simulator.time.time",
                            lambda: w.clock().timestamp())
        code = main(["send", "--url", "http://testserver", "--sender", "cli-express",
                     "--scheme", "hmac-sha256", "--key-file", str(key), "--order",
                     str(ORDER_ID), "--shipment", "CLI1", "--signed-by", "Li Wei",
                     "shipped", "delivered_signed"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "2 recorded, 0 refused / 已记录 2，被拒绝 0" in out
        # sent again: the carrier's retry is refused as a replay (exit 1)
        code = main(["send", "--url", "http://testserver", "--sender", "cli-express",
                     "--scheme", "hmac-sha256", "--key-file", str(key), "--order",
                     str(ORDER_ID), "--shipment", "CLI1", "shipped"])
        out = capsys.readouterr().out
        assert code == 1 and "webhook_replayed" in out and "被拒绝 1" in out


def test_the_cid_hash_stays_cached_for_concurrent_builders() -> None:
    """multiformats reads its weak cache of Multihash objects with a check-then-get; an
    entry collected between the two made a concurrent CID build fail with KeyError (the
    load test found it). evidence.ipfs holds sha2-256 so its entry never dies."""
    import gc
    import threading

    from multiformats.multihash import Multihash

    from evidence.ipfs import FileImporter, MemoryBlockstore

    gc.collect()
    assert "sha2-256" in Multihash._cache
    errors: list[BaseException] = []

    def build(n: int) -> None:
        try:
            for i in range(200):
                importer = FileImporter(cid_version=1, blockstore=MemoryBlockstore())
                importer.write(f"{n}:{i}".encode())
                importer.finish()
                if i % 50 == 0:
                    # the young generations, where the builds' objects are: a full
                    # collection walks the whole test process (a second or more each in a
                    # worker that ran a thousand tests), none of it the builds'
                    gc.collect(1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
