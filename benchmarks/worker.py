"""One framework in its own process, driven over stdin/stdout with JSON lines.

Each framework runs in a separate process so that thread pools never compete: OpenBLAS
threads that spin after a NumPy call would otherwise slow PyTorch's OpenMP threads down
(and the reverse) on a 2-core machine. The driver interleaves the processes' timings.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def blas_info() -> list[dict]:
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info()]


def gemm_only_seconds(batch: int, n: int) -> float:
    """The matrix products of one training step of the benchmark MLP, and nothing else:
    3 forward, and backward dW for every layer and dX for all but the first."""
    from benchmarks.workloads import initial_weights

    w = [w for w, _ in initial_weights()]
    x = np.random.default_rng(0).standard_normal((batch, 784)).astype(np.float32)
    h1 = x @ w[0].T
    h2 = h1 @ w[1].T
    z = h2 @ w[2].T
    # the weight gradients as the fastest NumPy way for this batch: at batch 1 an outer
    # product (a k=1 BLAS product is several times slower), else a matrix product
    outer = np.multiply if batch == 1 else np.matmul
    started = time.perf_counter()
    for _ in range(n):
        h1 = x @ w[0].T
        h2 = h1 @ w[1].T
        z = h2 @ w[2].T
        _ = outer(z.T, h2)
        d = z @ w[2]
        _ = outer(d.T, h1)
        d = d @ w[1]
        _ = outer(d.T, x)
    return time.perf_counter() - started


def im2col_memory(model: str, batch: int) -> dict:
    """Peak memory of one glassnet training step (tracemalloc, which sees NumPy's buffers),
    after a warm-up step, next to the im2col column buffers worked out from the shapes:
    each convolution's columns hold N * positions * (C_in / groups) * K floats, kept from
    its forward until its backward, and its input gradient's columns are as large again."""
    import tracemalloc

    import glassnet as gn
    from benchmarks.workloads import Glassnet

    w = Glassnet("train-sgd", batch, count=1, model=model)
    w.run(1)
    tracemalloc.start()
    w.run(1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    columns = {}
    x = w.xs[0]
    with gn.no_grad():
        for name, layer in w.model.named_children():
            y = layer(x)
            if isinstance(layer, (gn.nn.Conv1d, gn.nn.Conv2d)):
                taps = layer.in_channels // layer.groups * int(np.prod(layer.kernel_size))
                rows = batch * int(np.prod(y.shape[2:]))
                columns[name] = rows * taps * x.data.itemsize
            x = y
    return {"model": model, "batch": batch, "peak_bytes": peak, "columns_bytes": columns}


def scaling(task: str) -> dict:
    """Glassnet samples per second over dataset sizes, and step time over batch sizes."""
    import glassnet as gn
    from benchmarks.workloads import Glassnet

    out: dict = {"dataset_size": {}, "batch_size": {}}
    if task == "dataset":
        # samples per second over the first 100 steps of an epoch on datasets of each size,
        # the sizes interleaved and repeated: per-step costs must not grow with the data
        rng = np.random.default_rng(0)
        loaders, models = {}, {}
        for n in (10_000, 50_000, 200_000):
            data = gn.data.TensorDataset(
                rng.standard_normal((n, 784)).astype(np.float32), rng.integers(0, 10, n)
            )
            loaders[n] = gn.data.DataLoader(data, batch_size=128, shuffle=True)
            models[n] = Glassnet("train-sgd", 128, count=1)
        rates: dict = {n: [] for n in loaders}
        for _ in range(5):
            for n, loader in loaders.items():
                w, steps = models[n], 0
                started = time.perf_counter()
                for xb, yb in loader:
                    w.optimizer.zero_grad()
                    w.loss_fn(w.model(xb), yb).backward()
                    w.optimizer.step()
                    steps += 1
                    if steps == 100:
                        break
                rates[n].append(steps * 128 / (time.perf_counter() - started))
        out["dataset_size"] = {n: float(np.median(r)) for n, r in rates.items()}
    else:
        for batch in (256, 512, 1024, 2048):
            w = Glassnet("train-sgd", batch, count=4)
            w.run(2)
            steps = max(3, 4096 // batch)
            out["batch_size"][batch] = w.run(steps) / steps
    return out


def main() -> None:
    from threadpoolctl import threadpool_limits

    from benchmarks.workloads import FRAMEWORKS

    workload = None
    limits = None
    for line in sys.stdin:
        command = json.loads(line)
        if "setup" in command:
            s = command["setup"]
            limits = threadpool_limits(limits=s["threads"])  # kept for the process's life
            if s["framework"] == "torch":
                import torch

                torch.set_num_threads(s["threads"])
            workload = FRAMEWORKS[s["framework"]](
                s["task"], s["batch"], s.get("count", 16), s.get("model", "mlp")
            )
            reply = {"ok": True, "blas": blas_info()}
            if s["framework"] == "torch":  # PyTorch's own BLAS (MKL in its x86 wheels)
                import re

                found = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
                reply["torch_blas"] = found.group(1) if found else "unknown"
        elif "time" in command:
            reply = {"seconds": workload.run(command["time"])}
        elif "gemm_only" in command:
            reply = {"seconds": gemm_only_seconds(*command["gemm_only"])}
        elif "scaling" in command:
            reply = scaling(command["scaling"])
        elif "im2col_memory" in command:
            reply = im2col_memory(*command["im2col_memory"])
        else:
            break
        print(json.dumps(reply), flush=True)
    del limits


if __name__ == "__main__":
    main()
