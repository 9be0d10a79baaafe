"""``glassnet playground``: a page on your own machine where a network learns while you
watch, and one backward pass can be stepped through op by op.

The server needs the ``playground`` extra (``pip install "glassnet[playground]"``); the
page itself is HTML, CSS and JavaScript shipped inside this package.
"""

from __future__ import annotations

from glassnet.playground.server import serve

__all__ = ["serve"]
