"""The playground's web server: one page, its static files, and a small JSON API.

Each open page gets its own ``Live`` session: a glassnet ``Session`` and a background
thread that trains it while the page says Play. Frames (losses, boundary, histograms)
reach the page over a WebSocket (not server-sent events: a browser keeps at most six
HTTP connections per host, so a seventh tab would hang); when the page goes away its
socket closes, and (after a short grace for a reconnect) the session's thread stops.

Only the page's own origin may talk to it: the server listens on 127.0.0.1, answers
only HTTP requests whose Host is that address, and refuses a request whose Origin is not
its own page (every POST must carry one), so no other web page the user has open can
drive it. Every response carries a strict content-security policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
import sys
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from glassnet.playground import backprop, export
from glassnet.playground.session import Session
from glassnet.playground.settings import (
    ACTIVATIONS,
    DATASETS,
    LOSSES,
    OPTIMIZERS,
    PRESETS,
    SettingError,
    parse,
)

FRAME_SECONDS = 0.05  # the training thread publishes a frame this often: 20 per second
MOST_SESSIONS = 16  # pages at once; a new page pushes out one whose socket is closed
MOST_STREAMS = 4  # live sockets per page (a page opens one; reconnects may overlap)
GRACE_SECONDS = 3.0  # a page's socket may drop and come back (the page reconnects)
MOST_BODY = 64 * 1024  # bytes in a request: settings are a few hundred
STATIC = resources.files("glassnet.playground") / "static"
HEADERS = {
    # the page loads only its own files and talks only to its own server
    "content-security-policy": "default-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}


def clean(value: Any) -> Any:
    """``value`` with every nan and inf made None: JSON has no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(clean(value), separators=(",", ":"))


def _json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(clean(value), status_code=status)


def _error(message: str, status: int = 400, field: str | None = None) -> JSONResponse:
    return _json({"error": message, "field": field}, status)


class Live:
    """A session being shown on one page, the thread that trains it, and its latest frame
    (as JSON text, made once however many streams send it)."""

    def __init__(self) -> None:
        self.session = Session()
        self.playing = threading.Event()
        self.closed = threading.Event()
        self.busy = threading.Lock()  # one long job (a backward pass, a gradcheck) at a time
        self.version = 0
        self.streams = 0
        self.frame: dict[str, Any] = {}
        self.frame_json = self.points_json = ""
        self.build = 0
        self.publish()
        self.thread = threading.Thread(target=self._run, daemon=True, name="playground")
        self.thread.start()

    def publish(self) -> None:
        """A new frame of what the page draws (and the data, after a new build)."""
        with self.session.lock:
            frame = self.session.frame(playing=self.playing.is_set())
            if frame["build"] != self.build:
                self.points_json = dumps(self.extras())
                self.build = frame["build"]
        self.frame, self.frame_json = frame, dumps(frame)
        self.version += 1

    def extras(self) -> dict[str, Any]:
        """What changes only with a new build: the data points and the parameter names."""
        return {
            "build": self.session.builds,
            "points": self.session.points(),
            "parameters": [name for name, _ in self.session.model.named_parameters()],
        }

    def _run(self) -> None:
        while not self.closed.is_set():
            if not self.playing.wait(0.1):
                continue
            try:
                self.session.train(seconds=FRAME_SECONDS)
            except Exception as error:  # a bug must not leave the page frozen without a word
                self.session.stopped = f"training stopped: {type(error).__name__}: {error}"
                print(f"glassnet playground: {self.session.stopped}", file=sys.stderr)
            if self.session.stopped:
                self.playing.clear()
            self.publish()

    def close(self) -> None:
        self.closed.set()
        self.playing.clear()


class Sessions:
    """The open pages' sessions, by an unguessable id."""

    def __init__(self) -> None:
        self.live: dict[str, Live] = {}
        self.lock = threading.Lock()

    def new(self) -> tuple[str, Live] | None:
        """A new page's session, or None when MOST_SESSIONS pages are open and streaming."""
        with self.lock:
            if len(self.live) >= MOST_SESSIONS:
                idle = next((k for k, live in self.live.items() if live.streams == 0), None)
                if idle is None:
                    return None
                self.live.pop(idle).close()  # a page that never opened (or lost) its socket
            key = secrets.token_urlsafe(12)
            self.live[key] = Live()
            return key, self.live[key]

    def get(self, key: str) -> Live | None:
        return self.live.get(key)

    def close(self, key: str) -> None:
        with self.lock:
            live = self.live.pop(key, None)
        if live is not None:
            live.close()

    def close_if_gone(self, key: str) -> None:
        """Close the session if no socket came back for it (the page went away)."""
        live = self.live.get(key)
        if live is not None and live.streams == 0:
            self.close(key)

    def close_all(self) -> None:
        for key in list(self.live):
            self.close(key)


class LocalOnly:
    """ASGI middleware: only the page's own host and origin get through (see above), and
    every response gets the security headers."""

    def __init__(self, app: Any, hosts: set[str]) -> None:
        self.app, self.hosts = app, hosts
        self.origins = {f"http://{h}" for h in hosts}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        why = None
        if headers.get("host") not in self.hosts:
            why = "the Host is not this playground's address"
        elif origin is not None and origin not in self.origins:
            why = "the Origin is not this playground's page"
        elif origin is None and (
            scope["type"] == "websocket" or scope["method"] not in ("GET", "HEAD")
        ):
            why = "a request that changes something must come from the playground's page"
        if scope["type"] == "websocket":
            if why is None:
                await self.app(scope, receive, send)
            else:  # refused before the handshake: the browser sees a 403
                await send({"type": "websocket.close", "code": 1008})
            return

        async def secured(message: dict) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.decode() not in HEADERS]
                secure = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": kept + secure}
            await send(message)

        if why is not None:
            await Response(f"refused: {why}", 403, media_type="text/plain")(scope, receive, secured)
            return
        await self.app(scope, receive, secured)


async def _body(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, or None when it is not one (or is too large)."""
    size = request.headers.get("content-length", "0")
    if not size.isdigit() or int(size) > MOST_BODY:
        return None
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MOST_BODY:
            return None
    try:
        value = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # bad JSON, a 5,000-digit number, [[[[...]]]]
        return None
    return value if isinstance(value, dict) else None


BAD_BODY = "send a JSON object (at most 64 KB)"


def create_app(hosts: set[str], stopping: Callable[[], bool] = lambda: False) -> Any:
    """The ASGI app, answering only for ``hosts`` (``"127.0.0.1:8765"`` and the like).
    ``stopping()`` turning True (the server got Ctrl-C) ends the event streams, so the
    server can close every connection and stop at once."""
    sessions = Sessions()

    async def index(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"))

    async def create(request: Request) -> Response:
        made = await asyncio.to_thread(sessions.new)
        if made is None:
            return _error(f"{MOST_SESSIONS} playground pages are open; close one and reload", 503)
        _key, live = made
        return _json(
            {
                "id": _key,
                "frame": live.frame,
                **live.extras(),
                "options": {
                    "datasets": DATASETS,
                    "activations": ACTIVATIONS,
                    "losses": LOSSES,
                    "optimizers": OPTIMIZERS,
                },
                "presets": PRESETS,
            }
        )

    def _live(request: Request) -> Live | None:
        return sessions.get(request.path_params["key"])

    def gone() -> Response:
        return _error("this page's session is gone (the server restarted?); reload the page", 404)

    async def build(request: Request) -> Response:
        live, body = _live(request), await _body(request)
        if live is None:
            return gone()
        if body is None:
            return _error(BAD_BODY)
        try:
            settings = parse(body.get("settings"))
        except SettingError as error:
            return _error(str(error), 400, error.field)
        live.playing.clear()
        await asyncio.to_thread(live.session.build, settings)
        await asyncio.to_thread(live.publish)
        return _json({"frame": live.frame, **live.extras()})

    async def control(request: Request) -> Response:
        live, body = _live(request), await _body(request)
        if live is None:
            return gone()
        action = None if body is None else body.get("action")
        if action == "play":
            if live.session.stopped:
                return _error(live.session.stopped, 409)
            live.playing.set()
        elif action == "pause":
            live.playing.clear()
            await asyncio.to_thread(live.session.evaluate)  # the curves end where it stopped
        elif action == "step":
            if live.session.stopped:
                return _error(live.session.stopped, 409)
            live.playing.clear()
            await asyncio.to_thread(live.session.step_once)
        elif action == "reset":
            live.playing.clear()
            await asyncio.to_thread(live.session.build, live.session.settings)
        else:
            return _error(f"action must be play, pause, step or reset; got {action!r:.40}")
        await asyncio.to_thread(live.publish)
        return _json({"frame": live.frame})

    async def live_socket(socket: WebSocket) -> None:
        """The page's live line: a frame whenever the training thread publishes one (the
        data points first after a build). A page with its socket closed is gone."""
        key = socket.path_params["key"]
        live = sessions.get(key)
        if live is None or live.streams >= MOST_STREAMS:
            await socket.close(code=4404 if live is None else 4429)
            return
        await socket.accept()
        live.streams += 1
        closed = asyncio.Event()

        async def watch() -> None:  # the page sends nothing: a message here is its close
            with contextlib.suppress(Exception):
                while (await socket.receive())["type"] != "websocket.disconnect":
                    pass
            closed.set()

        watcher = asyncio.create_task(watch())
        sent, build = -1, -1
        try:
            while not (closed.is_set() or live.closed.is_set() or stopping()):
                if live.version != sent:
                    sent = live.version
                    if live.build != build:  # a new network: its data first
                        build = live.build
                        await socket.send_text('{"type":"points","data":' + live.points_json + "}")
                    await socket.send_text('{"type":"frame","data":' + live.frame_json + "}")
                await asyncio.sleep(FRAME_SECONDS / 2)
        except Exception:  # the page went away mid-send
            closed.set()
        finally:
            watcher.cancel()
            live.streams -= 1
            if not closed.is_set():  # the server stops (1001), or the session was closed
                with contextlib.suppress(Exception):
                    await socket.close(code=1001 if stopping() else 4404)
            if live.streams == 0 and not stopping():  # gone, or about to reconnect
                loop = asyncio.get_running_loop()
                loop.call_later(GRACE_SECONDS, sessions.close_if_gone, key)

    async def _long(live: Live, job: Callable, *args: Any) -> Any:
        """A long job of the page's (a backward pass, a gradcheck), one at a time."""
        if not live.busy.acquire(blocking=False):
            raise BlockingIOError
        try:
            return await asyncio.to_thread(job, *args)
        finally:
            live.busy.release()

    def busy() -> Response:
        return _error("still working on the previous request of this page", 409)

    async def backward(request: Request) -> Response:
        live = _live(request)
        if live is None:
            return gone()
        live.playing.clear()
        try:
            result = await _long(live, backprop.backward_pass, live.session)
        except BlockingIOError:
            return busy()
        except RuntimeError as error:
            return _error(str(error), 409)
        await asyncio.to_thread(live.publish)
        return _json(result)

    async def gradcheck(request: Request) -> Response:
        live, body = _live(request), await _body(request)
        if live is None:
            return gone()
        if body is None:
            return _error(BAD_BODY)
        try:
            result = await _long(live, backprop.gradcheck, live.session, str(body.get("parameter")))
        except BlockingIOError:
            return busy()
        except KeyError as error:
            return _error(error.args[0], 400, "parameter")
        except ValueError as error:
            return _error(str(error), 409)
        return _json(result)

    async def download(request: Request) -> Response:
        live = _live(request)
        name = request.path_params["name"]
        if live is None:
            return gone()
        made = {
            "model.safetensors": (export.weights, "application/octet-stream"),
            "config.json": (_config_bytes, "application/json"),
            "train.py": (_train_bytes, "text/plain; charset=utf-8"),
        }
        if name not in made:
            return _error(f"no export of that name; there are {', '.join(made)}", 404)
        maker, media = made[name]
        content = await asyncio.to_thread(maker, live.session)
        disposition = {"content-disposition": f'attachment; filename="{name}"'}
        return Response(content, media_type=media, headers=disposition)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        sessions.close_all()  # the server is stopping: every training thread with it

    api = "/api/sessions/{key}"
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/sessions", create, methods=["POST"]),
            Route(f"{api}/build", build, methods=["POST"]),
            Route(f"{api}/control", control, methods=["POST"]),
            WebSocketRoute(f"{api}/live", live_socket),
            Route(f"{api}/backward", backward, methods=["POST"]),
            Route(f"{api}/gradcheck", gradcheck, methods=["POST"]),
            Route(f"{api}/export/{{name}}", download),
            Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.sessions = sessions
    return LocalOnly(app, hosts)


def _config_bytes(session: Session) -> bytes:
    return json.dumps(clean(export.config(session)), indent=1).encode()


def _train_bytes(session: Session) -> bytes:
    return export.train_script(session).encode()
