"""Every Python example in README.md and docs/ runs, so the docs cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks():
    for page in PAGES:
        for i, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
            yield pytest.param(code, id=f"{page.name}#{i}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_example_runs(code: str) -> None:
    exec(compile(code, "<example>", "exec"), {"__name__": "__example__"})
