"""Side-by-side speed of glassnet, PyTorch, a hand-fused NumPy loop and scikit-learn.

    python -m benchmarks.run            # the full run: medians of 7 interleaved repeats
    python -m benchmarks.run --quick    # a smoke test in about a minute (CI runs this)
    python -m benchmarks.run --only cnn1d:train-sgd:32,lenet:train-sgd:128

Every framework runs in its own process (so thread pools never compete) with the same
number of BLAS threads (threadpoolctl; PyTorch's set_num_threads), on the same model,
data and initial weights. Repeats are interleaved: A B C, B C A, C A B, ... so that slow
phases of a noisy machine hit every framework alike. Writes benchmarks/results.json and
prints the Markdown table that README.md shows.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTLE_S = 0.3
ROOT = HERE.parent

# (model in workloads.MODELS, task, batch, frameworks, batches held by the workload)
CONFIGS = [
    ("mlp", "train-sgd", 32, ("glassnet", "compiled", "torch", "numpy"), 16),
    ("mlp", "train-sgd", 128, ("glassnet", "compiled", "torch", "numpy"), 16),
    ("mlp", "train-sgd", 512, ("glassnet", "compiled", "torch", "numpy"), 16),
    ("mlp", "train-adam", 128, ("glassnet", "compiled", "torch"), 16),
    ("mlp", "infer", 1, ("glassnet", "compiled", "exported", "torch", "numpy"), 16),
    ("mlp", "infer", 32, ("glassnet", "compiled", "exported", "torch", "numpy"), 16),
    ("mlp", "infer", 1024, ("glassnet", "compiled", "exported", "torch", "numpy"), 16),
    ("mlp", "epoch", 128, ("glassnet", "sklearn"), 64),
    ("cnn1d", "train-sgd", 32, ("glassnet", "compiled", "torch", "numpy"), 16),
    ("cnn1d", "train-sgd", 128, ("glassnet", "compiled", "torch", "numpy"), 16),
    ("lenet", "train-sgd", 32, ("glassnet", "torch"), 16),
    ("lenet", "train-sgd", 128, ("glassnet", "torch"), 16),
    ("gru", "train-adam", 32, ("glassnet", "compiled", "torch"), 16),
    ("gru", "train-adam", 128, ("glassnet", "compiled", "torch"), 16),
]
# the smoke run: one MLP training and one inference configuration, and each conv net once
QUICK = [CONFIGS[0], CONFIGS[4], CONFIGS[8], CONFIGS[10]]
# issue 14's targets: glassnet's training throughput over PyTorch's, at every batch size
TARGETS = {"cnn1d": 1.0, "lenet": 0.7, "gru": 1.0}
# issue 15's: the compiled step's throughput over PyTorch's
COMPILED_TARGETS = {
    ("mlp", "train-sgd", 32): 1.25,
    ("mlp", "train-sgd", 128): 1.15,
    ("mlp", "train-sgd", 512): 1.05,
    ("mlp", "train-adam", 128): 1.1,
    ("mlp", "infer", 1): 1.4,
    ("cnn1d", "train-sgd", 32): 1.3,
    ("cnn1d", "train-sgd", 128): 1.3,
    ("gru", "train-adam", 32): 1.3,
    ("gru", "train-adam", 128): 1.3,
}


def available(framework: str) -> bool:
    module = {"glassnet": "glassnet", "compiled": "glassnet", "exported": "glassnet"}
    module |= {"torch": "torch", "numpy": "numpy"}
    module["sklearn"] = "sklearn"
    return importlib.util.find_spec(module[framework]) is not None


class Worker:
    """A framework's process; ``ask`` sends one JSON command and returns the reply."""

    def __init__(
        self, framework: str, task: str, batch: int, count: int, threads: int, model: str = "mlp"
    ) -> None:
        env = {
            **os.environ,
            # the repository root (for benchmarks/) and its src/ (this checkout's glassnet,
            # not whichever one is installed)
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
            ),
            # also read at load time: under threadpoolctl's limit alone, NumPy's OpenBLAS
            # (0.3.31) still ran larger products on a second, spinning thread (CPU time
            # 1.4x wall for 25x75 @ 75x1280 at a limit of 1), which on a loaded machine
            # slows the process it was meant to leave alone
            **{v: str(threads) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        task_name = "train-sgd" if task == "epoch" else task
        setup = {
            "framework": framework,
            "task": task_name,
            "batch": batch,
            "count": count,
            "threads": threads,
            "model": model,
        }
        reply = self.ask({"setup": setup})
        self.blas, self.torch_blas = reply["blas"], reply.get("torch_blas")

    def ask(self, command: dict) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark worker died on {command}")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def time_config(model, task, batch, frameworks, count, threads, repeats, budget) -> dict:
    """Median seconds per step (per epoch for the 'epoch' task) of each framework."""
    workers = {f: Worker(f, task, batch, count, threads, model) for f in frameworks}
    try:
        steps = {}
        for name, worker in workers.items():
            if task == "epoch":
                steps[name] = count  # one epoch over the workload's batches
                worker.ask({"time": count})
                continue
            worker.ask({"time": 3})  # warm-up
            probe = worker.ask({"time": 5})["seconds"] / 5
            steps[name] = max(5, min(2000, int(budget / max(probe, 1e-6))))
        samples = {name: [] for name in workers}
        order = list(workers)
        for r in range(repeats):
            for name in order[r % len(order) :] + order[: r % len(order)]:
                # Let the previous process's idle thread pools stop spinning (OpenMP keeps
                # its threads busy-waiting for up to 200 ms after a parallel region).
                time.sleep(SETTLE_S)
                seconds = workers[name].ask({"time": steps[name]})["seconds"]
                samples[name].append(seconds / (1 if task == "epoch" else steps[name]))
        blas = next(iter(workers.values())).blas
        torch_blas = next((w.torch_blas for w in workers.values() if w.torch_blas), None)
        medians = {name: statistics.median(v) for name, v in samples.items()}
        return medians | {"_blas": blas, "_torch_blas": torch_blas}
    finally:
        for worker in workers.values():
            worker.close()


def command_seconds(code: str, repeats: int) -> float:
    """Median wall time of ``python -c code`` in a fresh interpreter, bytecode cached (as
    after any first import: a warm-up run writes the .pyc files that pip writes at install)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def installed_mb(distributions: list[str]) -> float:
    total = 0
    for name in distributions:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in dist.files or ():
            path = Path(dist.locate_file(f))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def peak_rss(args: list[str]) -> dict:
    """Run a command in a fresh process and read its peak resident memory (Linux, macOS)."""
    wrapper = (
        f"import resource, runpy, sys, time; sys.argv = {args!r}; t = time.perf_counter()\n"
        f"try:\n    runpy.run_module({args[0]!r}, run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('PEAK %d %f\\n' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " time.perf_counter() - t))"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, cwd=ROOT, check=True
    )
    line = [x for x in result.stderr.splitlines() if x.startswith("PEAK ")][-1]
    kb, seconds = line.split()[1:]
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2  # KiB on Linux, bytes on macOS
    accuracy = [x for x in result.stdout.splitlines() if "test accuracy" in x]
    return {
        "peak_mb": int(kb) * scale,
        "seconds": float(seconds),
        "accuracy_line": accuracy[-1] if accuracy else "",
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a / b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--output", default=str(HERE / "results.json"))
    parser.add_argument(
        "--only",
        metavar="[MODEL:]TASK:BATCH,...",
        help="time only these configurations (the model defaults to mlp)",
    )
    args = parser.parse_args()
    repeats, budget = (3, 0.05) if args.quick else (7, 0.4)
    configs = QUICK if args.quick else CONFIGS
    if args.only:
        items = [item.split(":") for item in args.only.split(",")]
        wanted = {tuple(i) if len(i) == 3 else ("mlp", *i) for i in items}
        configs = [c for c in configs if (c[0], c[1], str(c[2])) in wanted]

    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "date": time.strftime("%Y-%m-%d"),
            "quick": args.quick,
            # OpenBLAS picks its kernels by the CPU it detects unless this forces one
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        },
        "speed": [],
    }
    for model, task, batch, frameworks, count in configs:
        frameworks = tuple(f for f in frameworks if available(f))
        timing = time_config(model, task, batch, frameworks, count, args.threads, repeats, budget)
        results["machine"]["blas"] = timing.pop("_blas")
        torch_blas = timing.pop("_torch_blas")
        if torch_blas:
            results["machine"]["torch_blas"] = torch_blas
        row = {"model": model, "task": task, "batch": batch, "seconds": timing}
        row["samples_per_s"] = {
            f: (batch * (count if task == "epoch" else 1)) / s for f, s in timing.items()
        }
        g = timing.get("glassnet")
        row["speedup_vs"] = {f: ratio(s, g) for f, s in timing.items() if f != "glassnet"}
        if "compiled" in timing:  # gn.compile's step against the others
            c = timing["compiled"]
            row["compiled_vs"] = {f: ratio(s, c) for f, s in timing.items() if f != "compiled"}
        results["speed"].append(row)
        print(
            f"{model:6s} {task:10s} batch {batch:5d}: "
            + ", ".join(f"{f} {v:,.0f}/s" for f, v in row["samples_per_s"].items()),
            flush=True,
        )

    overhead = Worker("glassnet", "train-sgd", 1, 16, args.threads)
    try:
        overhead.ask({"time": 20})
        n = 30 if args.quick else 300
        step = overhead.ask({"time": n})["seconds"] / n
        gemm = overhead.ask({"gemm_only": [1, n]})["seconds"] / n
        results["engine_overhead_batch_1"] = {"step_s": step, "gemm_s": gemm, "ratio": step / gemm}
        if not args.quick:
            results["scaling"] = overhead.ask({"scaling": "dataset"})
            results["scaling"]["batch_size"] = overhead.ask({"scaling": "batch"})["batch_size"]
    finally:
        overhead.close()
    if any(c[0] == "lenet" for c in configs):
        memory = Worker("glassnet", "train-sgd", 1, 1, args.threads)
        try:
            results["im2col_memory"] = memory.ask({"im2col_memory": ["lenet", 128]})
        finally:
            memory.close()

    n = 3 if args.quick else 7
    results["import_s"] = {
        "python": command_seconds("pass", n),
        "glassnet": command_seconds("import glassnet", n),
    }
    if available("torch"):
        results["import_s"]["torch"] = command_seconds("import torch", n)
    results["installed_mb"] = {
        "glassnet + runtime dependencies": installed_mb(
            ["glassnet", "numpy", "tqdm", "safetensors"]
        ),
        "torch": installed_mb(["torch"]),
    }
    if not args.quick:
        with tempfile.TemporaryDirectory() as out:
            results["digits_run"] = {"glassnet": peak_rss(["glassnet", "train", "--out", out])}
            if available("torch"):
                results["digits_run"]["torch"] = peak_rss(["benchmarks.torch_digits"])
    Path(args.output).write_text(json.dumps(results, indent=1))
    print()
    print(table(results))


def _fmt(value: float | None, unit: str = "x") -> str:
    return "" if value is None else f"{value:.2f}{unit}"


def table(results: dict) -> str:
    """The Markdown tables of README.md."""
    lines = [
        "| task | batch | glassnet samples/s | vs PyTorch | vs NumPy hand-fused "
        "| vs scikit-learn |",
        "|---|---|---|---|---|---|",
    ]
    mlp_rows = [r for r in results["speed"] if r.get("model", "mlp") == "mlp"]
    if not mlp_rows:  # a run of --only conv nets
        lines = []
    for row in mlp_rows:
        speed = row["speedup_vs"]
        lines.append(
            f"| {row['task']} | {row['batch']} | {row['samples_per_s']['glassnet']:,.0f} | "
            f"{_fmt(speed.get('torch'))} | {_fmt(speed.get('numpy'))} | "
            f"{_fmt(speed.get('sklearn'))} |"
        )
    o = results["engine_overhead_batch_1"]
    imports = results["import_s"]
    lines += ["", "| measure | glassnet | PyTorch | ratio |", "|---|---|---|---|"][not lines :]
    lines.append(f"| training step at batch 1 / its matrix products alone | {o['ratio']:.2f} | | |")
    if "torch" in imports:
        lines.append(
            f'| `python -c "import ..."` | {imports["glassnet"]:.2f} s | '
            f"{imports['torch']:.2f} s | {imports['torch'] / imports['glassnet']:.1f}x faster |"
        )
    sizes = results["installed_mb"]
    g_mb, t_mb = sizes["glassnet + runtime dependencies"], sizes["torch"]
    if t_mb:
        lines.append(
            f"| installed size (with runtime dependencies; torch alone) | {g_mb:.0f} MB | "
            f"{t_mb:.0f} MB | {t_mb / g_mb:.1f}x smaller |"
        )
    run = results.get("digits_run", {})
    if "glassnet" in run and "torch" in run:
        g, t = run["glassnet"], run["torch"]
        lines.append(
            f"| peak memory of a full digits training run | {g['peak_mb']:.0f} MB | "
            f"{t['peak_mb']:.0f} MB | {t['peak_mb'] / g['peak_mb']:.1f}x less |"
        )
        lines.append(
            f"| wall time of that run (40 epochs) | {g['seconds']:.1f} s | "
            f"{t['seconds']:.1f} s | {t['seconds'] / g['seconds']:.1f}x faster |"
        )
    scaling = results.get("scaling")
    if scaling:
        sizes = scaling["dataset_size"]
        lo, hi = min(sizes.values()), max(sizes.values())
        lines.append(
            "| samples/s at 10k, 50k, 200k training samples | "
            + ", ".join(f"{v:,.0f}" for v in sizes.values())
            + f" | | spread {hi / lo - 1:.0%} |"
        )
        per = {int(b): s / int(b) * 1e6 for b, s in scaling["batch_size"].items()}
        lines.append(
            "| step time per sample at batch 256, 512, 1024, 2048 | "
            + ", ".join(f"{v:.1f} us" for v in per.values())
            + " | | |"
        )
    lines += conv_table(results)
    lines += compiled_table(results)
    m = results["machine"]
    blas = [b for b in m.get("blas", []) if b.get("user_api") == "blas"]
    kernel = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in blas)
    lines.append("")
    lines.append(
        f"{m['processor']}, {m['cpus']} CPUs, {m['threads']} BLAS threads for every "
        f"framework, {kernel} (OPENBLAS_CORETYPE {m.get('openblas_coretype') or 'unset'}), "
        f"PyTorch's BLAS {m.get('torch_blas', 'not measured')}, Python {m['python']}, "
        f"{m['date']}."
    )
    return "\n".join(lines)


def conv_table(results: dict) -> list[str]:
    """The conv nets' and the GRU's training steps against PyTorch (and against a step
    written by hand in NumPy, where there is one), with issue 14's targets, and the memory
    of im2col."""
    rows = [r for r in results["speed"] if r.get("model", "mlp") != "mlp"]
    if not rows:
        return []
    lines = [
        "",
        "| model | task | batch | glassnet samples/s | PyTorch samples/s | vs PyTorch | target "
        "| vs NumPy by hand |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        rate, target = row["samples_per_s"], TARGETS.get(row["model"])
        lines.append(
            f"| {row['model']} | {row['task']} | {row['batch']} | {rate['glassnet']:,.0f} | "
            f"{rate.get('torch', 0):,.0f} | {_fmt(row['speedup_vs'].get('torch'))} | "
            f"{_fmt(target, 'x')} | {_fmt(row['speedup_vs'].get('numpy'))} |"
        )
    memory = results.get("im2col_memory")
    if memory:
        parts = " + ".join(f"{v / 1e6:.1f} MB" for v in memory["columns_bytes"].values())
        lines += [
            "",
            f"Peak memory of one {memory['model']} training step at batch {memory['batch']} "
            f"(tracemalloc): {memory['peak_bytes'] / 1e6:.1f} MB, of which the im2col columns "
            f"(N x positions x C_in/groups x K floats per convolution) are {parts}.",
        ]
    return lines


def compiled_table(results: dict) -> list[str]:
    """gn.compile's training steps against PyTorch, the NumPy step written by hand and
    eager glassnet, with issue 15's targets."""
    rows = [r for r in results["speed"] if "compiled_vs" in r]
    if not rows:
        return []
    lines = [
        "",
        "| model | task | batch | compiled samples/s | vs PyTorch | target | vs NumPy by hand "
        "| vs eager glassnet | exported file vs PyTorch, vs NumPy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        vs, seconds = row["compiled_vs"], row["seconds"]
        target = COMPILED_TARGETS.get((row["model"], row["task"], row["batch"]))
        exported = ""
        if "exported" in seconds:  # the file export_numpy writes, run without glassnet
            e = seconds["exported"]
            exported = (
                f"{_fmt(ratio(seconds.get('torch'), e))}, {_fmt(ratio(seconds.get('numpy'), e))}"
            )
        lines.append(
            f"| {row['model']} | {row['task']} | {row['batch']} | "
            f"{row['samples_per_s']['compiled']:,.0f} | {_fmt(vs.get('torch'))} | "
            f"{_fmt(target)} | {_fmt(vs.get('numpy'))} | {_fmt(vs.get('glassnet'))} | "
            f"{exported} |"
        )
    return lines


if __name__ == "__main__":
    main()
