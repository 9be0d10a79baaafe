"""Every script in examples/ runs to the end (each checks its own result) in seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_the_examples_are_numbered_in_reading_order() -> None:
    assert [p.name[:2] for p in EXAMPLES] == [
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "07",
        "08",
        "09",
        "10",
        "11",
    ]
    # docs/index.md names them in the order of the pages they go with
    index = (EXAMPLES[0].parents[1] / "docs" / "index.md").read_text(encoding="utf-8")
    places = [index.find(p.name) for p in EXAMPLES]
    assert -1 not in places and places == sorted(places), dict(zip(EXAMPLES, places))


def test_the_index_lists_every_docs_page() -> None:
    docs = EXAMPLES[0].parents[1] / "docs"
    index = (docs / "index.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in docs.glob("*.md") if p.name != "index.md")
    assert [p for p in pages if f"]({p})" not in index] == []


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path, tmp_path) -> None:
    if "pytorch" in script.name:
        pytest.importorskip("torch")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GLASSNET_QUICK": "1"},  # the long examples train for seconds only
    )
    assert result.returncode == 0, result.stdout + result.stderr
    if script.name.startswith("03"):
        pytest.importorskip("matplotlib")
        assert (tmp_path / "spirals.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if script.name.startswith("09"):
        pytest.importorskip("matplotlib")
        png = tmp_path / "recurrence_gradient_norm.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if script.name.startswith("10"):
        pytest.importorskip("matplotlib")
        assert (tmp_path / "attention_maps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
