"""Every example in README.md and docs/ runs, so the docs cannot drift from the code:
each Python block is executed, and each ``glassnet ...`` line of a bash block is run as a
command, in order, in a scratch folder."""

from __future__ import annotations

import linecache
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OPTIONAL = ("torch", "onnxruntime", "onnx", "sklearn", "matplotlib")


def _blocks(language: str):
    pattern = re.compile(rf"```{language}\n(.*?)```", re.DOTALL)
    for page in PAGES:
        for i, code in enumerate(pattern.findall(page.read_text(encoding="utf-8"))):
            yield pytest.param(code, id=f"{page.name}#{i}")


@pytest.mark.parametrize("code", list(_blocks("python")))
def test_python_example_runs(code: str, tmp_path, monkeypatch) -> None:
    for package in OPTIONAL:  # an example using an optional package skips without it
        if re.search(rf"^\s*(import|from) {package}\b", code, re.MULTILINE):
            pytest.importorskip(package)
    monkeypatch.chdir(tmp_path)  # examples may write files
    name = f"<docs example {abs(hash(code))}>"
    # as if the block were a file: tracebacks and detect_anomaly can quote its lines
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    exec(compile(code, name, "exec"), {"__name__": "__example__"})


def _run_playground(words: list[str]) -> None:
    """``glassnet playground`` runs until Ctrl-C: start it (without opening a browser),
    fetch the page it announces, then stop it as a user does."""
    pytest.importorskip("uvicorn", reason="the playground extra is not installed")
    command = [sys.executable, "-m", "glassnet", *words[1:]]
    if "--no-browser" not in command:
        command.append("--no-browser")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        url = process.stdout.readline().split()[2]
        # fetched from another process: this one has the network switched off (conftest)
        fetch = (
            "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())"
        )
        page = subprocess.run(
            [sys.executable, "-c", fetch, url], capture_output=True, text=True, timeout=60
        )
        assert "<title>glassnet playground</title>" in page.stdout, page.stderr
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, f"{out}\n{err}"


@pytest.mark.parametrize("code", list(_blocks("bash")))
def test_command_line_example_runs(code: str, tmp_path) -> None:
    for line in code.splitlines():
        words = shlex.split(line, comments=True)
        if not words or words[0] != "glassnet":
            continue  # set-up lines (pip ...) are what CI itself runs
        if words[1:2] == ["playground"]:
            _run_playground(words)
            continue
        result = subprocess.run(
            [sys.executable, "-m", "glassnet", *words[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"


def test_quoted_sources_are_current() -> None:
    from tests.docs_sources import QUOTE, pages, render

    for page in pages():
        text = page.read_text(encoding="utf-8")
        assert text == render(text), (
            f"{page.name} quotes outdated source: run python tests/docs_sources.py"
        )
    assert any(QUOTE.search(p.read_text(encoding="utf-8")) for p in pages())


def test_every_docs_page_ends_with_lines_to_try() -> None:
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name == "ops.md":
            continue  # generated from the op registry: a table, nothing to paste
        last_section = page.read_text(encoding="utf-8").rsplit("\n## ", 1)[-1]
        assert last_section.startswith("Try it\n"), f"{page.name} does not end with ## Try it"
        assert "```python\n" in last_section, f"{page.name}: its Try it has no Python block"
