"""The package itself: public names, version, and a light import."""

from __future__ import annotations

import subprocess
import sys

import glassnet as gn


def test_every_public_name_exists() -> None:
    for name in gn.__all__:
        assert hasattr(gn, name), name


def test_version_is_a_string() -> None:
    assert isinstance(gn.__version__, str) and gn.__version__.count(".") >= 1


def test_import_loads_nothing_heavier_than_numpy() -> None:
    code = (
        "import sys, glassnet; "
        "import glassnet.cli; "  # the command, whose playground loads its server lazily
        "heavy = [m for m in ('torch', 'sklearn', 'scipy', 'matplotlib', 'onnx', 'starlette', "
        "'uvicorn', 'playwright') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_engine_imports_nothing_of_glassnet_but_itself() -> None:
    # DESIGN.md: arrows point down; autograd knows nothing of creation, random, ops or layers
    import ast
    from pathlib import Path

    package = Path(gn.__file__).parent / "autograd"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "glassnet":
                    assert name.startswith("glassnet.autograd"), f"{path.name} imports {name}"


def test_moved_modules_keep_their_public_names() -> None:
    from glassnet.io import interop, onnx

    assert gn.onnx is onnx and gn.onnx.export is onnx.export
    assert gn.interop is interop and gn.interop.to_torch is interop.to_torch
    assert gn.inspect.detect_anomaly is gn.autograd.detect_anomaly
    assert gn.manual_seed(3) is gn.default_generator()
