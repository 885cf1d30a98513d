"""bench/api.py runs and prints its figures (a smoke run: few clients, short phases)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
@pytest.mark.parametrize("workers, client", [
    (1, "lean"), (2, "lean"),  # 2: one SO_REUSEPORT socket per worker
    (1, "httpx"),  # the earlier rounds' client
])
def test_bench_api_prints_its_figures(workers: int, client: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "api.py"), "--quick",
                           "--clients", "3,5", "--workers", str(workers), "--client", client],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"server: {workers} uvicorn worker(s), SQLite + local IPFS blockstore; " \
        f"clients: {client}\n" in done.stdout
    assert re.search(r"the clients' own CPU at 3 clients: \d+\.\d{2} ms/action", done.stdout)
    lines = done.stdout.strip().splitlines()
    assert re.fullmatch(r"api_vs_ecrecover=\d+\.\d{4}", lines[-2]), lines[-2]
    assert re.fullmatch(r"cpu_ms_per_action=\d+\.\d{2}", lines[-1]), lines[-1]
    assert re.search(r"case views .*server CPU \d+\.\d{2} ms/read", done.stdout)
    assert re.search(r"paced at half .*p99 \d+\.\d ms", done.stdout)
    assert re.search(r"paced p99 by when sent: in the first second \d+\.\d ms, after it "
                     r"(\d+\.\d|nan) ms", done.stdout)
    rows = [ln.split() for ln in lines if re.match(r"\s+\d+\s+\d+\s+\d+\s", ln)]
    assert [int(r[0]) for r in rows] == [3, 5]
    assert all(int(r[1]) > 0 and int(r[2]) == 0 for r in rows), rows  # accepted, none refused
    assert "coincurve" in done.stdout


@pytest.mark.slow
def test_bench_inprocess_prints_its_figures() -> None:
    """bench/inprocess.py: every offer and case view answered, CPU per offer and per read."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "inprocess.py"), "--cases", "3",
                           "--offers", "3", "--reads", "6", "--concurrency", "3"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0] == ("SQLite: 9 offers (3 cases, 3 at a time), 6 case views; "
                        "refused or failed: 0"), lines[0]
    assert re.fullmatch(r"inprocess_cpu_ms_per_read=\d+\.\d{2}", lines[-2]), lines[-2]
    assert re.fullmatch(r"inprocess_cpu_ms_per_offer=\d+\.\d{2}", lines[-1]), lines[-1]


@pytest.mark.slow
def test_bench_inprocess_stages_time_every_stage_of_the_offer() -> None:
    """--stages: each stage of the step path named in bench/stages.py was found and timed
    once per offer (a stage the code no longer has would be listed as not found)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "inprocess.py"), "--cases", "2",
                           "--offers", "3", "--reads", "4", "--stages"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "not found" not in out, out
    offer_part = out.split("per read (")[0]
    rows = dict(re.findall(r"^  (\S+)\s+(\d+) +\d+\.\d{3} +\d+\.\d{3}$", offer_part, re.M))
    for stage in ("StepPipeline.submit", "StepPipeline.prestore", "ServiceBlockstore.write",
                  "StepTransactions.commit", "StepStore.insert", "Session.commit",
                  "LogService.receipt"):
        assert rows.get(stage) == "6", (stage, rows)
    assert re.search(r"^  views\.case_view_json\s+4 ", out, re.M), out


class _Server:
    """A keep-alive HTTP/1.1 stand-in that answers every request 201 and remembers the
    connection (the client's port) each request came on."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, str]] = []  # (client port, path)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                     ) -> None:
        port = writer.get_extra_info("peername")[1]
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            lines = head.decode("latin-1").split("\r\n")
            length = next((int(v) for k, _, v in (ln.partition(": ") for ln in lines[1:])
                           if k.lower() == "content-length"), 0)
            await reader.readexactly(length)
            self.requests.append((port, lines[0].split()[1]))
            body = b'{"recordHash": "0x00"}'
            writer.write(b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n"
                         b"content-length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()


def test_each_client_keeps_its_own_connection_at_a_light_rate() -> None:
    """The paced phase: 6 clients sending one request at a time in turn, so that one
    connection of a shared pool could carry them all; each client's requests still come on
    a connection of its own. With two workers the kernel spreads connections, not
    requests, over them: httpx's shared pool (``--client httpx``) carried the paced phase
    on its few busy connections, and one worker answered 361 of 403 groups (bench/README,
    fourteenth round)."""
    from api import Party, Phase, run_phase

    async def main() -> tuple[_Server, int, Phase]:
        server = _Server()
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        parties = [Party(key=None, order_id=i, token="t", case_id=f"c{i}",
                         offers=[{"n": j} for j in range(4)]) for i in range(6)]
        async with listener:
            phase = await run_phase(f"http://127.0.0.1:{port}", parties, 10.0, rate=60.0)
        return server, phase.accepted, phase

    server, accepted, phase = asyncio.run(main())
    assert accepted == 24
    # each request's send is kept from the phase's start: 4 rounds at 60/s for 6 clients
    assert len(phase.started) == 24 and all(0 <= at < 1.0 for at in phase.started)
    assert phase.pct(0.99, (1.0, float("inf"))) != phase.pct(0.99, (1.0, float("inf")))
    by_case: dict[str, set[int]] = {}
    for port, path in server.requests:
        by_case.setdefault(path.split("/")[2], set()).add(port)
    assert sorted(by_case) == [f"c{i}" for i in range(6)]
    assert all(len(ports) == 1 for ports in by_case.values()), by_case
    assert len(set().union(*by_case.values())) == 6  # six connections, one per client


def test_a_phases_quantiles_by_when_requests_were_sent() -> None:
    """``Phase.pct(q, sent)``: the quantile of the requests sent in a window of the phase
    (the paced phase's first second holds the cases' first steps on a worker)."""
    from api import Phase

    phase = Phase(2, 4, 0, 3.0, [0.090, 0.080, 0.010, 0.012], {},
                  started=[0.1, 0.5, 1.2, 2.5])
    assert phase.pct(0.99) == 90.0
    assert phase.pct(0.99, (0.0, 1.0)) == 90.0
    assert phase.pct(0.99, (1.0, float("inf"))) == 12.0
    assert phase.pct(0.5, (1.0, 2.0)) == 10.0
    assert phase.pct(0.5, (3.0, 4.0)) != phase.pct(0.5, (3.0, 4.0))  # none sent: nan


def test_cpu_of_processes_by_name() -> None:
    """``named_cpu_seconds``: the CPU of this machine's processes of one name (the local
    PostgreSQL's in the benchmark), this process's own among them; None for no process."""
    from api import named_cpu_seconds

    name = Path("/proc/self/comm").read_text().strip()
    sum(i * i for i in range(300_000))  # some CPU of our own
    found = named_cpu_seconds(name)
    assert found is not None and found > 0
    assert named_cpu_seconds("no-such-process-name") is None
