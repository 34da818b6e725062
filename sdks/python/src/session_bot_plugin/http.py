"""A tiny HTTP endpoint for orchestrators, like plugin-host's: ``GET /healthz``, ``GET /readyz``
(503 with the reasons while waiting for the broker's streams, stopping, or disconnected) and
``GET /metrics`` (Prometheus text). No dependency beyond asyncio."""
from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .worker import Worker

_MAX_REQUEST_LINE = 8192


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics_text(w: Worker) -> str:
    lines = [
        "# HELP sb_plugin_host_deliveries_total Inbound deliveries by outcome.",
        "# TYPE sb_plugin_host_deliveries_total counter",
        *(f'sb_plugin_host_deliveries_total{{outcome="{_label(k)}"}} {v}' for k, v in sorted(w.counters.deliveries.items())),
        "# HELP sb_plugin_host_plugin_events_total Plugin invocations by outcome.",
        "# TYPE sb_plugin_host_plugin_events_total counter",
    ]
    for name, c in sorted(w.counters.plugins.items()):
        lines.append(f'sb_plugin_host_plugin_events_total{{plugin="{_label(name)}",outcome="ok"}} {int(c["handled"])}')
        lines.append(f'sb_plugin_host_plugin_events_total{{plugin="{_label(name)}",outcome="error"}} {int(c["errors"])}')
    lines += [
        "# HELP sb_plugin_host_in_flight Events being handled now.",
        "# TYPE sb_plugin_host_in_flight gauge",
        f"sb_plugin_host_in_flight {len(w._inflight)}",
        "# HELP sb_plugin_host_owned_partitions Inbound partitions this worker pulls now (partition ownership, PROTOCOL.md §6.2.1).",
        "# TYPE sb_plugin_host_owned_partitions gauge",
        f"sb_plugin_host_owned_partitions {len(w.partitions)}",
        "# HELP sb_plugin_host_unknown_kinds_total Inbound events of a kind newer than this worker (acked, ignored).",
        "# TYPE sb_plugin_host_unknown_kinds_total counter",
        f"sb_plugin_host_unknown_kinds_total {w.counters.unknown_kinds}",
    ]
    return "\n".join(lines) + "\n"


async def serve_http(worker: Worker, host: str, port: int) -> asyncio.AbstractServer:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            if len(line) > _MAX_REQUEST_LINE:
                raise ValueError("request line too long")
            while True:  # headers, ignored
                h = await asyncio.wait_for(reader.readline(), 5)
                if h in (b"\r\n", b"\n", b""):
                    break
            parts = line.decode("latin-1").split()
            method, path = (parts[0], parts[1].split("?")[0]) if len(parts) >= 2 else ("", "")
            ctype = "application/json"
            if method != "GET":
                status, body = 405, json.dumps({"status": "method_not_allowed"})
            elif path == "/healthz":
                status, body = 200, json.dumps({"status": "ok"})
            elif path == "/readyz":
                reasons = worker.readiness()
                status, body = (200, json.dumps({"status": "ready"})) if not reasons else (503, json.dumps({"status": "not_ready", "reasons": reasons}))
            elif path == "/metrics":
                status, body, ctype = 200, metrics_text(worker), "text/plain; version=0.0.4"
            else:
                status, body = 404, json.dumps({"status": "not_found"})
            data = body.encode()
            reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}[status]
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
            await writer.drain()
        except (asyncio.TimeoutError, ValueError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
