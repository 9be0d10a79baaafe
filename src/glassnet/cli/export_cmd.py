"""``glassnet export DIR --onnx FILE``: a saved run as an ONNX model that takes raw features."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.cli import common


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a saved run to ONNX",
        description="Write the model saved in DIR as an ONNX file. The feature scaling of "
        "the run is built into the graph, so the ONNX model takes the same raw features as "
        "'glassnet predict' and returns logits (input 'input', output 'logits', any batch "
        "size). Needs the onnx extra: pip install 'glassnet[onnx]'.",
    )
    p.add_argument("run_dir", metavar="DIR", help="the --out folder of 'glassnet train'")
    p.add_argument("--onnx", required=True, metavar="FILE", help="where to write the .onnx file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import glassnet as gn

    model, config = common.load_run_model(args.run_dir)
    stats = config.get("standardize") or {}

    class Scaled(gn.nn.Module):
        """(x - mean) / std, then the trained model: the run's whole prediction path."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model
            n = config["model"]["in_features"]
            self.mean = gn.tensor(np.asarray(stats.get("mean", np.zeros(n)), np.float32))
            self.std = gn.tensor(np.asarray(stats.get("std", np.ones(n)), np.float32))

        def forward(self, x):
            return self.model((x.reshape(x.shape[0], -1) - self.mean) / self.std)

    example = np.zeros((1, config["model"]["in_features"]), np.float32)
    try:
        gn.onnx.export(Scaled(), example, args.onnx, output_names=["logits"])
    except ImportError as error:
        raise common.UsageError(str(error)) from None
    except gn.onnx.UnsupportedOpError as error:
        # a layer the exporter has no ONNX translation for yet: say what still works
        weights = Path(args.run_dir) / "model.safetensors"
        raise common.UsageError(
            f"{error}. Nothing was written; the trained weights are in {weights} "
            "(safetensors, with PyTorch's key names: torch and the safetensors package read it)"
        ) from None
    print(
        f"wrote {args.onnx}: input 'input' (batch, {example.shape[1]}) float32, "
        f"output 'logits' (batch, {config['model']['num_classes']}); classes "
        f"{', '.join(config['classes'])}"
    )
    return 0
