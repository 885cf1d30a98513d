"""The service under uvicorn in a background thread, on a free 127.0.0.1 port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.demo.common import DemoError

if TYPE_CHECKING:  # uvicorn is imported when the demo serves
    import uvicorn
    from fastapi import FastAPI

__all__ = ["Running", "free_port", "serve"]


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    """A served app: where it answers, and the uvicorn server and thread behind it."""

    base_url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread


@contextmanager
def serve(app: FastAPI, port: int) -> Iterator[Running]:
    """Serve ``app`` until the block ends; raises ``DemoError`` if uvicorn does not start."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="critical", lifespan="on",
                                           access_log=False))
    thread = threading.Thread(target=server.run, name="demo-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DemoError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    try:
        yield Running(f"http://127.0.0.1:{port}", app, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
