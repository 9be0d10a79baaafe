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
        help="export a saved run to ONNX or to a NumPy-only Python file",
        description="Write the model saved in DIR as an ONNX file (--onnx FILE), or as "
        "Python code that needs only NumPy (--format numpy: model.py and weights.npz in "
        "--out, DIR/numpy by default). The feature scaling of the run is built in, so "
        "either takes the same raw features as 'glassnet predict' and returns logits, for "
        "any batch size. ONNX needs the onnx extra: pip install 'glassnet[onnx]'.",
    )
    p.add_argument("run_dir", metavar="DIR", help="the --out folder of 'glassnet train'")
    p.add_argument("--onnx", metavar="FILE", help="where to write the .onnx file")
    p.add_argument(
        "--format",
        choices=("onnx", "numpy"),
        help="onnx (with --onnx FILE) or numpy (model.py + weights.npz); default: onnx",
    )
    p.add_argument("--out", metavar="FOLDER", help="the folder for --format numpy")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import glassnet as gn

    fmt = args.format or ("onnx" if args.onnx or not args.out else "numpy")
    if fmt == "onnx" and not args.onnx:
        raise common.UsageError(
            "export: say where to write: --onnx FILE for ONNX, or --format numpy "
            "(optionally --out FOLDER) for a NumPy-only Python file"
        )
    if fmt == "numpy" and args.onnx:
        raise common.UsageError("export: --onnx FILE is for --format onnx; use --out FOLDER")
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
    if fmt == "numpy":
        return _numpy(Scaled().eval(), example.shape[1:], args, config)
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


def _numpy(model: Any, sample_shape: tuple[int, ...], args: argparse.Namespace, config) -> int:
    """``--format numpy``: model.py and weights.npz, needing NumPy alone."""
    from glassnet.compile import ExportError, export_numpy

    folder = Path(args.out) if args.out else Path(args.run_dir) / "numpy"
    try:
        path = export_numpy(model, tuple(sample_shape), folder)
    except ExportError as error:
        raise common.UsageError(f"{error}. Nothing was written") from None
    print(
        f"wrote {path} and {folder / 'weights.npz'}: forward = model.load('weights.npz'), "
        f"then forward(x) for x of shape (batch, {sample_shape[0]}) float32 gives logits "
        f"(batch, {config['model']['num_classes']}); classes {', '.join(config['classes'])}"
    )
    return 0
