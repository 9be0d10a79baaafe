"""Nothing is lost: a process killed (SIGKILL) at a random moment while saving leaves a
checkpoint that loads and is intact, 50 times in a row."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import glassnet as gn

RUNS = 50

SAVER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import glassnet as gn

    path = sys.argv[1]
    model = gn.nn.Sequential(gn.nn.Linear(256, 512), gn.nn.ReLU(), gn.nn.Linear(512, 256))
    optimizer = gn.optim.Adam(model.parameters(), lr=0.1)
    for step in range(10**9):
        for p in model.parameters():
            p.data[...] = step  # every value records which save this is
        gn.io.save_checkpoint(path, model, optimizer, step=step)
    """
)


def _model():
    return gn.nn.Sequential(gn.nn.Linear(256, 512), gn.nn.ReLU(), gn.nn.Linear(512, 256))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_saves_never_corrupt_the_checkpoint(tmp_path) -> None:
    rng = random.Random(0)
    path = tmp_path / "checkpoint.safetensors"
    survived = 0
    for run in range(RUNS):
        process = subprocess.Popen([sys.executable, "-c", SAVER, str(path)])
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.15))  # then kill it anywhere in its save loop
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        model = _model()
        optimizer = gn.optim.Adam(model.parameters(), lr=0.1)
        extra = gn.io.load_checkpoint(path, model, optimizer)
        values = np.concatenate([p.data.ravel() for p in model.parameters()])
        assert np.all(values == extra["step"]), f"run {run}: a mixed or torn checkpoint"
        survived += 1
    assert survived == RUNS
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != path.name]
    # a kill between creating and renaming the temporary file may leave one behind, never
    # under the real name
    assert all(name.startswith(".checkpoint.safetensors.") for name in leftovers)
