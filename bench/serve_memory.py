"""Memory of `hcr serve` under concurrent worst-case uploads: small files that decode to huge images.

    .venv/bin/python -m bench.serve_memory [MODEL] [--clients 32] [--rounds 1] [--workers 1] [--json PATH]

The server is the real command, `hcr serve`, in its own process on a free 127.0.0.1 port (loopback only), with
MODEL (or the shipped model). Two kinds of upload, each sent by `--clients` threads at once, `--rounds` each
(so at most clients × rounds requests per kind, each waited for at most 120 s):

- refused: the file of the issue, a 6300×6300 16-bit RGBA PNG (~340 kB; 39.7 M pixels, under the 40 M pixel
  limit, 159 MB once decoded), which the server refuses from its header (422) since the decoded-size limit;
- accepted: the largest RGBA image the server decodes, 5650×5650 (128 MB decoded, ~130 kB of PNG), a dark bar on
  white: every one is decoded and read, at most `image_processes` at a time per worker.

While they run, the server's resident memory (RSS of all its processes together: with --workers N the supervisor,
the workers and their image processes) is sampled every 20 ms, and GET /v1/health is timed every 100 ms on a fresh
connection. Reported per kind: answers by status (every request must get one: 200, 422 or 503 "busy"), latency
p50/max, RSS before / peak / after, and health latency p50/max. Targets: peak RSS ≤ 1 GB, every request answered,
health ≤ 100 ms. A report: exit 0 even when a target is missed (1 only if the server failed to start).
"""

import argparse
import http.client
import json
import os
import statistics
import struct
import threading
import time
import uuid
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from bench.serve_load import rss_mb, start_server
from rich.console import Console
from rich.table import Table

TARGET_RSS_MB = 1024
TARGET_HEALTH_MS = 100.0
REQUEST_TIMEOUT_S = 120.0
SAMPLE_S = 0.02
HEALTH_EVERY_S = 0.1


def png(width: int, height: int, bit_depth: int, rows: np.ndarray | None = None) -> bytes:
    """An RGBA PNG (colour type 6), written by hand: Pillow cannot write 16-bit RGBA. White with a dark vertical bar
    (a letter I), each row filtered 'none'."""
    dtype = np.dtype(">u2") if bit_depth == 16 else np.dtype(np.uint8)
    white = np.iinfo(dtype).max
    row = np.full((width, 4), white, dtype)
    bar = row.copy()
    bar[width // 2 - width // 40 : width // 2 + width // 40, :3] = 0
    top, bottom = height // 5, height - height // 5
    compressor = zlib.compressobj(6)
    plain, barred = b"\x00" + row.tobytes(), b"\x00" + bar.tobytes()
    parts = [compressor.compress(barred if top <= y < bottom else plain) for y in range(height)]
    data = b"".join(parts) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def post(port: int, image: bytes) -> tuple[str, float]:
    """One multipart upload to /v1/predict on its own connection: (status or error name, seconds)."""
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    start = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request("POST", "/v1/predict", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = connection.getresponse()
        response.read()
        return str(response.status), time.monotonic() - start
    except OSError as e:
        return type(e).__name__, time.monotonic() - start
    finally:
        connection.close()


def health_ms(port: int) -> float:
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/v1/health")
        connection.getresponse().read()
    finally:
        connection.close()
    return (time.perf_counter() - start) * 1000


def watch(pid: int, port: int, stop: threading.Event, samples: dict) -> None:
    """Sample the server's RSS and time health checks until `stop`."""
    next_health = time.monotonic()
    while not stop.is_set():
        samples["rss"].append(rss_mb(pid))
        if time.monotonic() >= next_health:
            samples["health_ms"].append(health_ms(port))
            next_health = time.monotonic() + HEALTH_EVERY_S
        time.sleep(SAMPLE_S)


def run_kind(pid: int, port: int, image: bytes, clients: int, rounds: int) -> dict:
    before = rss_mb(pid)
    samples: dict = {"rss": [], "health_ms": []}
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(pid, port, stop, samples))
    watcher.start()
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda _: post(port, image), range(clients * rounds)))
    elapsed = time.monotonic() - started
    stop.set()
    watcher.join()
    time.sleep(1.0)  # replaced image processes, if any, are up again
    latencies = [seconds for _, seconds in results]
    return {
        "requests": len(results),
        "answers": dict(Counter(status for status, _ in results)),
        "seconds": round(elapsed, 1),
        "latency_p50_s": round(statistics.median(latencies), 2),
        "latency_max_s": round(max(latencies), 2),
        "rss_mb": {"before": before, "peak": max(samples["rss"], default=before), "after": rss_mb(pid)},
        "health_ms": {
            "checks": len(samples["health_ms"]),
            "p50": round(statistics.median(samples["health_ms"]), 1),
            "max": round(max(samples["health_ms"]), 1),
        },
    }


def report(results: dict, console: Console) -> None:
    table = Table(title=f"hcr serve --workers {results['workers']}: {results['clients']} clients at once")
    for column in ("upload", "answers", "latency p50 / max", "RSS before / peak / after", "health p50 / max", "met"):
        table.add_column(column)
    for kind, r in results["kinds"].items():
        rss, health = r["rss_mb"], r["health_ms"]
        answered = sum(n for status, n in r["answers"].items() if status.isdigit()) == r["requests"]
        met = rss["peak"] <= TARGET_RSS_MB and answered and health["max"] <= TARGET_HEALTH_MS
        table.add_row(
            f"{kind} ({results['sizes'][kind]})",
            ", ".join(f"{n}× {status}" for status, n in sorted(r["answers"].items())),
            f"{r['latency_p50_s']} / {r['latency_max_s']} s",
            f"{rss['before']:.0f} / {rss['peak']:.0f} / {rss['after']:.0f} MB",
            f"{health['p50']} / {health['max']} ms ({health['checks']})",
            "[green]yes[/]" if met else "[red]no[/]",
        )
    console.print(table)
    console.print(f"targets: peak RSS ≤ {TARGET_RSS_MB} MB, every request answered, health ≤ {TARGET_HEALTH_MS:g} ms")
    load = ", ".join(f"{x:.1f}" for x in results["load_average_after"])
    console.print(f"load average after: {load} on {results['cpus']} CPUs (other work on the machine counts)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, nargs="?", help="model.onnx or its folder (default: the shipped model)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1, help="uploads per client and kind")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    uploads = {"refused": png(6300, 6300, 16), "accepted": png(5650, 5650, 8)}
    process, port = start_server(args.model, args.workers)
    try:
        time.sleep(2.0)  # with --workers N, every worker listens
        kinds = {kind: run_kind(process.pid, port, image, args.clients, args.rounds) for kind, image in uploads.items()}
    finally:
        process.terminate()
        process.wait(timeout=30)
    results = {
        "workers": args.workers,
        "clients": args.clients,
        "rounds": args.rounds,
        "sizes": {kind: f"{len(image) / 1000:.0f} kB" for kind, image in uploads.items()},
        "kinds": kinds,
        "cpus": os.cpu_count(),
        "load_average_after": os.getloadavg(),
    }
    report(results, Console())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
