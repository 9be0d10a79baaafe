"""Keep the source code quoted in docs/ identical to the code that runs.

A page quotes an object's source (or, with ``file: path``, a whole file of the repository)
between two markers::

    <!-- source: glassnet.ops.activation.ReLU -->
    ```py
    ...
    ```
    <!-- end source -->

Code that glassnet generates is quoted the same way, between ``<!-- generated: f -->``
and ``<!-- end generated -->``, from what the function ``f`` returns.

``python tests/docs_sources.py`` rewrites every quote from the current code; the test
``test_quoted_sources_are_current`` fails when a quote has drifted.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUOTE = re.compile(
    r"(<!-- (?:source|file): ([\w./-]+) -->\n)```py\n.*?```\n(<!-- end (?:source|file) -->)",
    re.DOTALL,
)


def source_of(dotted: str) -> str:
    if "/" in dotted:  # a file of the repository, quoted whole
        return (ROOT / dotted).read_text(encoding="utf-8")
    module, _, name = dotted.rpartition(".")
    return textwrap.dedent(inspect.getsource(getattr(importlib.import_module(module), name)))


GENERATED = re.compile(
    r"(<!-- generated: ([\w.]+) -->\n)```py\n.*?```\n(<!-- end generated -->)", re.DOTALL
)


def generated_by(dotted: str) -> str:
    """What the function ``dotted`` returns: code glassnet writes (a compiled step)."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)()


def render(text: str) -> str:
    text = QUOTE.sub(lambda m: f"{m.group(1)}```py\n{source_of(m.group(2))}```\n{m.group(3)}", text)
    return GENERATED.sub(
        lambda m: f"{m.group(1)}```py\n{generated_by(m.group(2))}```\n{m.group(3)}", text
    )


def pages() -> list[Path]:
    return sorted((ROOT / "docs").glob("*.md"))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    for page in pages():
        page.write_text(render(page.read_text(encoding="utf-8")), encoding="utf-8")
