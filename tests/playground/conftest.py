"""Fixtures for the playground's browser tests: the real ``glassnet playground`` command
as a subprocess, and Playwright (pytest-playwright) driving Debian's chromium."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest


def chromium() -> str | None:
    """Debian's chromium (Playwright's own browser download is not reachable here)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    path = chromium()
    if path is None:
        pytest.skip("no Chromium on this machine: apt-get install -y chromium (the browser tests)")
    # as the machine's own check runs it: no sandbox as root, and no background requests to
    # a network this machine does not reach
    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
    return {**browser_type_launch_args, "executable_path": path, "args": flags}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {
        **browser_context_args,
        "viewport": {"width": 1400, "height": 1000},
        "accept_downloads": True,
    }


class Playground:
    """A running ``glassnet playground --no-browser``: its address and its process."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "glassnet", "playground", "--no-browser"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        line = self.process.stdout.readline()
        if "http://127.0.0.1:" not in line:
            self.process.kill()
            raise RuntimeError(f"the playground did not start: {line}{self.process.stderr.read()}")
        self.url = line.split()[2]

    def stop(self, timeout: float = 10) -> tuple[int, str]:
        """Ctrl-C, as a user stops it; returns the exit status and what it printed."""
        self.process.send_signal(signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return self.process.returncode, out + err


@pytest.fixture(scope="module")
def playground() -> Iterator[Playground]:
    server = Playground()
    yield server
    if server.process.poll() is None:
        server.stop()
