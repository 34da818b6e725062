from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PROTOCOL_VECTORS = REPO / "packages" / "protocol" / "vectors"
CHUNKER_VECTORS = REPO / "packages" / "chunker" / "test-vectors" / "frames.json"


def load_json(path: Path):
    if not path.exists():
        # A missing shared vector file is a failure, never a skip.
        pytest.fail(f"shared test vectors missing: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def nats_server():
    from .natsserver import NatsServer

    server = NatsServer()
    yield server
    server.stop()


@pytest.fixture
async def nc(nats_server):
    import nats

    conn = await nats.connect(nats_server.url, max_reconnect_attempts=0)
    yield conn
    await conn.drain()


# ---- a bus and whole workers on the session's nats-server (test_worker, test_ownership) ---------
@pytest.fixture
async def js(nc):
    from .bus import ensure_bus

    js = nc.jetstream()
    await ensure_bus(js)
    return js


@pytest.fixture
async def workers(nats_server):
    """Starts workers on their own connections (``await workers(plugins, config)``); stops them all."""
    import nats

    from session_bot_plugin import Worker

    started: list[Worker] = []

    async def start(plugins, cfg) -> Worker:
        w = Worker(plugins, cfg, nc=await nats.connect(nats_server.url))
        await w.start()
        started.append(w)
        return w

    yield start
    for w in started:
        await w.stop(grace_ms=0)
        await w.nc.drain()
