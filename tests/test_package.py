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
        "heavy = [m for m in ('torch', 'sklearn', 'scipy', 'matplotlib', 'onnx') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
