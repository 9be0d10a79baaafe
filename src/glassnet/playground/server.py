"""Start the playground: a free port on 127.0.0.1, the address printed, the browser opened,
and a clean stop on Ctrl-C."""

from __future__ import annotations

import contextlib
import errno
import functools
import socket
import webbrowser
from collections.abc import Callable
from typing import Any


def _server_stack() -> tuple[Any, Callable]:
    """uvicorn and the app, or an ImportError that names the extra to install."""
    try:
        import uvicorn
        import websockets  # noqa: F401 - uvicorn's WebSocket protocol: the page's live line

        from glassnet.playground.app import create_app
    except ImportError as error:
        raise ImportError(
            f"glassnet playground needs the 'playground' extra ({error.name} is missing): "
            'pip install "glassnet[playground]"'
        ) from None
    return uvicorn, create_app


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (loopback only); port 0 picks a free one.

    Raises:
        OSError: the port is taken (the message names it).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # a restart on the same --port right after Ctrl-C: the old connections' TIME_WAIT
    # must not hold the port for a minute (a second live server is still refused)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EACCES:
            why = (
                f"port {port} needs administrator rights (ports below 1024); choose one above 1023"
            )
        else:
            why = f"port {port} on 127.0.0.1 is taken; choose another with --port"
        raise OSError(error.errno, f"{why}, or leave --port out for a free one") from None
    sock.listen(64)
    return sock


def make_server(sock: socket.socket) -> Any:
    """A uvicorn server for the playground's app on ``sock`` (not yet running)."""
    uvicorn, create_app = _server_stack()
    port = sock.getsockname()[1]
    server = None
    app = create_app(
        {f"127.0.0.1:{port}", f"localhost:{port}"},
        stopping=lambda: server is not None and server.should_exit,
    )
    config = uvicorn.Config(
        app,
        log_level="warning",
        # event streams never end by themselves: give them a second, then stop
        timeout_graceful_shutdown=1,
        lifespan="on",
        proxy_headers=False,
        ws="websockets-sansio",  # nothing stands in front of it: X-Forwarded-* are not believed
    )
    server = uvicorn.Server(config)
    return server


def serve(
    port: int = 0,
    open_browser: bool = True,
    announce: Callable[[str], Any] | None = None,
) -> None:
    """Run the playground until Ctrl-C.

    Args:
        port: the port on 127.0.0.1 (0: a free one).
        open_browser: open the page in the default browser.
        announce: what prints the address (print, flushed, by default).
    """
    announce = announce or functools.partial(print, flush=True)
    _server_stack()  # the missing-extra message before anything else happens
    sock = bind(port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server = make_server(sock)
    announce(f"glassnet playground: {url}  (Ctrl-C stops it)")
    if open_browser:
        webbrowser.open(url)
    # uvicorn passes Ctrl-C on once it has stopped: for a server, that is the way out
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    announce("glassnet playground: stopped")
