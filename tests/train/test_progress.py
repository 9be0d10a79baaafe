"""fit shows one progress bar per epoch with loss and accuracy in a terminal, and prints
nothing when its output is not a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import glassnet as gn

    s = gn.data.make_spirals(100, 3, generator=np.random.default_rng(0))
    m = gn.train.mlp(2, [16], 3)
    gn.fit(m, gn.nn.CrossEntropyLoss(), gn.optim.Adam(m.parameters(), lr=0.01), s.train, 2)
    print("finished")
    """
)


def test_no_output_when_not_a_terminal() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    assert result.stdout == "finished\n" and result.stderr == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses a Linux pseudo-terminal")
def test_one_bar_per_epoch_in_a_terminal() -> None:
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: a 100-column terminal, then the script
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        os.execv(sys.executable, [sys.executable, "-c", SCRIPT])
    output = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    text = output.decode("utf-8", errors="replace")
    for epoch in ("epoch 1/2", "epoch 2/2"):
        assert f"{epoch}: 100%" in text
    assert "loss=" in text and "acc=" in text and "finished" in text
