"""GRU training step on sequences of 40, glassnet against PyTorch 2.13 CPU, in one process.

    python -m benchmarks.gru_probe          # the MNIST-1D GRU (hidden 64), batch 32 and 128
    python -m benchmarks.gru_probe --hidden 6 --bidirectional --head all   # the paper's GRU

The model is ``gn.train.models.gru`` (GRU over the 40 steps of an MNIST-1D signal, a
Linear head on its last hidden state, 10 classes: the settings that reach 97% there) and
the same torch model with the same initial weights; each step is zero_grad, forward,
cross-entropy, backward, Adam. Both run with the same number of BLAS threads. Rounds are
interleaved (glassnet, torch, torch, glassnet, ...) so a noisy machine slows both alike;
the ratio reported is the median over rounds of torch's time / glassnet's time (> 1:
glassnet is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _models(args: argparse.Namespace):
    import torch

    import glassnet as gn

    ours = gn.train.models.gru(
        args.features,
        args.hidden,
        10,
        num_layers=args.layers,
        bidirectional=args.bidirectional,
        head=args.head,
        seq_len=args.seq,
        generator=np.random.default_rng(0),
    )

    class Torch(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = torch.nn.GRU(
                args.features,
                args.hidden,
                num_layers=args.layers,
                batch_first=True,
                bidirectional=args.bidirectional,
            )
            width = args.hidden * (2 if args.bidirectional else 1)
            self.head = torch.nn.Linear(width * (args.seq if args.head == "all" else 1), 10)

        def forward(self, x):
            out, h = self.gru(x.unsqueeze(-1) if x.ndim == 2 else x)
            if args.head == "all":
                return self.head(out.reshape(out.shape[0], -1))
            last = torch.cat([h[-2], h[-1]], dim=1) if args.bidirectional else h[-1]
            return self.head(last)

    theirs = Torch()
    theirs.load_state_dict(
        {k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()}
    )
    return ours, theirs


def _steps(args, batch: int):
    """One closure per framework, each running ``n`` training steps on fixed batches."""
    import torch

    import glassnet as gn

    ours, theirs = _models(args)
    rng = np.random.default_rng(1)
    shape = (batch, args.seq) if args.features == 1 else (batch, args.seq, args.features)
    xs = [rng.standard_normal(shape).astype(np.float32) for _ in range(4)]
    ys = [rng.integers(0, 10, batch) for _ in range(4)]
    opt = gn.optim.Adam(ours.parameters(), lr=1e-3)
    topt = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    loss_fn, tloss_fn = gn.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    gx, gy = [gn.tensor(x) for x in xs], [gn.tensor(y) for y in ys]
    tx, ty = [torch.from_numpy(x) for x in xs], [torch.from_numpy(y) for y in ys]

    def glassnet_steps(n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            opt.zero_grad()
            loss = loss_fn(ours(gx[i % 4]), gy[i % 4])
            loss.backward()
            opt.step()
        return time.perf_counter() - start

    def torch_steps(n: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            topt.zero_grad()
            loss = tloss_fn(theirs(tx[i % 4]), ty[i % 4])
            loss.backward()
            topt.step()
        return time.perf_counter() - start

    return glassnet_steps, torch_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--features", type=int, default=1)
    parser.add_argument("--seq", type=int, default=40)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--head", choices=["all", "last"], default="last")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=10, help="steps per round")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        print(
            f"GRU({args.features} -> {args.hidden}, layers={args.layers}, bidirectional="
            f"{args.bidirectional}, head={args.head}) + Linear, seq {args.seq}, Adam, "
            f"{args.threads} thread(s), torch {torch.__version__}"
        )
        for batch in args.batches:
            ours, theirs = _steps(args, batch)
            ours(2), theirs(2)  # warm up: first-call costs, caches
            ratios, t_ours, t_theirs = [], [], []
            for r in range(args.rounds):
                pair = [("g", ours), ("t", theirs)]
                for name, run in pair if r % 2 == 0 else pair[::-1]:
                    (t_ours if name == "g" else t_theirs).append(run(args.steps) / args.steps)
                ratios.append(t_theirs[-1] / t_ours[-1])
            print(
                f"batch {batch:4d}: glassnet {1e3 * statistics.median(t_ours):7.2f} ms/step, "
                f"torch {1e3 * statistics.median(t_theirs):7.2f} ms/step, "
                f"ratio torch/glassnet {statistics.median(ratios):.2f}x "
                f"(rounds {min(ratios):.2f}..{max(ratios):.2f})"
            )


if __name__ == "__main__":
    main()
