"""``glassnet compile [DIR] --show``: the training step gn.compile writes for a model.

For a saved run (DIR), its model and training settings; without DIR, the model and
settings a plain ``glassnet train`` uses on digits. One step is traced on a batch of
random samples of the model's input shape (nothing is saved: the run's files stay as
they are), then the generated code is printed (``--show``) or summed up.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from typing import Any

import numpy as np

from glassnet.cli import common


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compile",
        help="show the training step gn.compile writes for a model",
        description="Trace one training step of the model saved in DIR (or, without DIR, of "
        "the model 'glassnet train' makes for digits) with gn.compile, and print the "
        "straight-line NumPy it becomes (--show) or a summary of it. Nothing is saved.",
    )
    p.add_argument("run_dir", nargs="?", metavar="DIR", help="a --out folder of 'glassnet train'")
    p.add_argument("--show", action="store_true", help="print the generated code")
    p.add_argument(
        "--forward", action="store_true", help="the forward pass alone (inference), not a step"
    )
    p.add_argument("--batch", type=common.positive_int, default=32, help="the batch size")
    p.set_defaults(run=run)


def _model_and_settings(run_dir: str | None):
    from glassnet.cli import train_cmd

    if run_dir is not None:
        model, config = common.load_run_model(run_dir)
        settings = {**train_cmd.model_defaults("mlp", "digits"), **config.get("training", {})}
        return model, config["model"], settings
    settings = train_cmd.model_defaults("mlp", "digits")
    described = {
        "type": "mlp", "input_shape": [64], "in_features": 64, "hidden": settings["hidden"],
        "activation": settings["activation"], "dropout": settings["dropout"], "num_classes": 10,
    }  # fmt: skip
    return common.build_model({"model": described}), described, settings


def run(args: argparse.Namespace) -> int:
    import glassnet as gn
    from glassnet.cli import train_cmd

    gn.manual_seed(0)
    model, described, settings = _model_and_settings(args.run_dir)
    shape = tuple(described.get("input_shape", [described["in_features"]]))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, *shape)).astype(np.float32)
    y = rng.integers(0, described["num_classes"], args.batch)
    if args.forward:
        model.eval()
        compiled = gn.compile(model)
        compiled(x)
        what = "forward pass"
    else:
        optimizer = train_cmd._optimizer(settings["optimizer"], model.parameters(), settings)
        loss_fn = gn.nn.CrossEntropyLoss(label_smoothing=settings["label_smoothing"])
        compiled = gn.compile(
            model, loss_fn, optimizer, max_grad_norm=settings.get("max_grad_norm")
        )
        compiled(x, y)  # the eager step that traces it
        what = "training step"
    source = compiled.source
    if args.show:
        print(source)
        return 0
    if source.startswith("# eager:"):
        print(f"this {what} is not compiled; it runs eagerly: {source[len('# eager: ') :]}")
        return 0
    ops = Counter(re.findall(r"^\s+# (\w+): ", source, re.MULTILINE))
    called = sorted(set(re.findall(r"(\w+)\.forward\(", source)))
    body = source.split("def train_step" if not args.forward else "def forward", 1)[1]
    lines = [ln for ln in body.splitlines()[1:] if ln.strip() and not ln.strip().startswith("#")]
    print(f"{what} of {type(model).__name__} at batch {args.batch}: {len(lines)} lines of NumPy")
    written = {k: v for k, v in ops.items() if k not in called}
    print("ops written out: " + ", ".join(f"{k} x{v}" for k, v in sorted(written.items())))
    if called:
        print(
            "ops called as their Function (no template yet): "
            + ", ".join(f"{k} x{ops.get(k, 1)}" for k in called)
        )
    print(
        "see the code: glassnet compile" + (f" {args.run_dir}" if args.run_dir else "") + " --show"
    )
    return 0
