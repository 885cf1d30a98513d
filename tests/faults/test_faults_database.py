"""PostgreSQL restarted while clients read and sign steps: every answer is a success or a
503 `database_unavailable` (never a 500, never a hang), nothing half-stored, lost or
duplicated, and the service answers again without a restart of its own.

The cluster is this module's own (initdb + pg_ctl on a free port, in a temp dir), so the
shared server on 5432 is never disturbed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.fault_harness import Party, Service, check, free_port, parties

pytestmark = [pytest.mark.anvil, pytest.mark.postgres]

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1] if Path(
    "/usr/lib/postgresql").is_dir() else Path("/usr/bin")


class Cluster:
    """A PostgreSQL cluster run as the `postgres` user (the server refuses root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="chainarb-faults-pg-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.data = self.dir / "data"
        shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        done = subprocess.run(["runuser", "-u", "postgres", "--", *cmd], capture_output=True,
                              text=True, timeout=timeout, check=False)
        assert done.returncode == 0, f"{args[0]}: {done.stdout}{done.stderr}"

    def init(self) -> Cluster:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync")
        return self

    def pg_ctl(self, action: str, *extra: str) -> None:
        self._run("pg_ctl", action, "-D", str(self.data), "-w", "-t", "60",
                  "-l", str(self.dir / "server.log"),
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off", *extra)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "stop",
                        "-D", str(self.data), "-m", "immediate"], capture_output=True,
                       check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster().init()
    c.pg_ctl("start")
    try:
        yield c
    finally:
        c.remove()


def traffic(ps: list[Party], stop: threading.Event, answers: list[tuple[str, int, str]]
            ) -> None:
    """Each party reads its case and signs offers until `stop`; records every answer."""
    def one(p: Party) -> None:
        n = 0
        with httpx.Client(base_url=p.service.base, timeout=60) as h:
            while not stop.is_set():
                n += 1
                try:
                    v = h.get(f"/cases/{p.case_id}", headers=p.headers)
                    answers.append(("view", v.status_code, _code(v)))
                    if v.status_code != 200:
                        time.sleep(0.05)
                        continue
                    body, _ = p.offer_body(1_000 + n, v.json())
                    r = h.post(f"/cases/{p.case_id}/offers", json=body, headers=p.headers)
                    answers.append(("offer", r.status_code, _code(r)))
                    if r.status_code == 201:
                        p.accepted_offers.append(r.json()["recordHash"])
                except httpx.HTTPError as exc:
                    answers.append(("transport", 0, type(exc).__name__))

    threads = [threading.Thread(target=one, args=(p,)) for p in ps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("code", "")) if r.status_code >= 400 else ""
    except ValueError:
        return "(not JSON)"


def test_postgres_restarted_during_traffic(make_service: Any, cluster: Cluster) -> None:
    svc: Service = make_service(db_url=cluster.url, clients=3)
    ps = parties(svc, 3)
    stop = threading.Event()
    answers: list[tuple[str, int, str]] = []
    runner = threading.Thread(target=traffic, args=(ps, stop, answers))
    runner.start()
    try:
        time.sleep(1.0)
        cluster.pg_ctl("restart", "-m", "fast")
        time.sleep(1.5)
        cluster.pg_ctl("stop", "-m", "immediate")  # a crash this time
        time.sleep(1.0)
        cluster.pg_ctl("start")
        time.sleep(1.5)
    finally:
        stop.set()
        runner.join(timeout=120)
    assert not runner.is_alive(), "a client hangs"
    bad = [a for a in answers
           if (a[1], a[2]) not in {(200, ""), (201, ""), (503, "database_unavailable")}]
    assert bad == [], bad
    assert any(a[1] == 503 for a in answers), "the restart was not seen by any request"
    assert svc.proc is not None and svc.proc.poll() is None  # the service kept running
    for p in ps:  # and answers again without a restart of its own
        assert p.offer(99_000).status_code == 201
    check(svc, ps)
