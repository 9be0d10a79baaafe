"""glassnet keeps freed memory in the process (glassnet/_allocator.py): repeated training
steps of a conv net take no page faults once warm, and the user's own malloc settings or
GLASSNET_MALLOC_DEFAULTS=1 leave glibc's as they were."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import _allocator

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or any(name.startswith(("MALLOC_", "GLASSNET_MALLOC_")) for name in os.environ),
    reason="glibc's malloc on Linux, with no MALLOC_* settings of the user's",
)


@glibc
def test_conv_steps_take_no_page_faults_once_warm() -> None:
    # LeNet at batch 32 makes and frees 2.5 MB of columns (and more) every step, which
    # with glibc's default thresholds took ~1,900 page faults per step
    rng = np.random.default_rng(0)
    model = gn.nn.Sequential(
        gn.nn.Conv2d(1, 6, 5, padding=2), gn.nn.ReLU(), gn.nn.MaxPool2d(2),
        gn.nn.Conv2d(6, 16, 5), gn.nn.ReLU(), gn.nn.MaxPool2d(2),
        gn.nn.Flatten(), gn.nn.Linear(400, 120), gn.nn.ReLU(), gn.nn.Linear(120, 10),
    )  # fmt: skip
    opt = gn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = gn.tensor(rng.standard_normal((32, 1, 28, 28)).astype(np.float32))
    y = gn.tensor(rng.integers(0, 10, 32))

    def steps(n: int) -> None:
        for _ in range(n):
            opt.zero_grad()
            gn.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

    steps(3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    steps(5)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 100, f"{faults} page faults in 5 warm steps"


@pytest.mark.parametrize("env", [{"GLASSNET_MALLOC_DEFAULTS": "1"}, {"MALLOC_ARENA_MAX": "2"}])
def test_user_settings_leave_malloc_alone(env: dict) -> None:
    code = "import glassnet._allocator as a; print(a.keep_freed_memory())"
    src = os.path.dirname(os.path.dirname(gn.__file__))
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "PYTHONPATH": src},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


@glibc
def test_glibc_takes_the_thresholds() -> None:
    assert _allocator.keep_freed_memory() is True
