"""Inference speed of any `predict(x) -> probabilities` function: the two numbers a deployment asks about.

Batch throughput (images/s over a whole array, in batches) says how fast a backlog is cleared; single-image
latency (the median of repeated one-image calls) says how long one user waits. Both are wall-clock times on
whatever else the machine is doing, so they are reported with the batch size and repeat count that produced them.
"""

import time
from collections.abc import Callable
from typing import Any

import numpy as np

BATCH_SIZE = 256
N_SINGLE = 30  # one-image calls timed for the latency median
MAX_BATCH_IMAGES = 1024  # throughput is steady well before this; larger sets are timed on their first images


def measure_speed(
    predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, batch_size: int = BATCH_SIZE, n_single: int = N_SINGLE
) -> dict[str, Any]:
    """Images per second in batches of `batch_size`, and the median latency of one image in milliseconds.

    One warm-up call of each shape comes first: the first call of a model pays for tracing and allocation."""
    x = x[:MAX_BATCH_IMAGES]
    predict(x[:batch_size])
    predict(x[:1])
    started = time.perf_counter()
    for start in range(0, len(x), batch_size):
        predict(x[start : start + batch_size])
    batch_seconds = time.perf_counter() - started
    latencies = []
    for i in range(n_single):
        one = x[i % len(x) : i % len(x) + 1]
        started = time.perf_counter()
        predict(one)
        latencies.append(time.perf_counter() - started)
    return {
        "batch_images_per_second": len(x) / batch_seconds,
        "batch_size": batch_size,
        "batch_images": len(x),
        "single_image_ms": float(np.median(latencies)) * 1000,
        "single_image_calls": n_single,
    }
