"""The playground's web server: one page, its static files, and a small JSON API.

Each open page gets its own ``Live`` session: a glassnet ``Session`` and a background
thread that trains it while the page says Play. Frames (losses, boundary, histograms)
reach the page as server-sent events; when the page goes away its event stream ends,
and the session's thread stops with it.

Only the page's own origin may talk to it: the server listens on 127.0.0.1, answers
only requests whose Host is that address, and refuses a request whose Origin is not its
own page (every POST must carry one), so no other web page the user has open can
drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

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
MOST_SESSIONS = 16  # open pages at once; the oldest idle one goes first
STATIC = resources.files("glassnet.playground") / "static"
HEADERS = {
    # the page loads only its own files and talks only to its own server
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
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


def _json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(clean(value), status_code=status, headers=HEADERS)


def _error(message: str, status: int = 400, field: str | None = None) -> JSONResponse:
    return _json({"error": message, "field": field}, status)


class Live:
    """A session being shown on one page, and the thread that trains it."""

    def __init__(self) -> None:
        self.session = Session()
        self.playing = threading.Event()
        self.closed = threading.Event()
        self.version = 0
        self.streams = 0
        self.frame: dict[str, Any] = {}
        self.publish()
        self.thread = threading.Thread(target=self._run, daemon=True, name="playground")
        self.thread.start()

    def publish(self) -> None:
        """A new frame of what the page draws."""
        self.frame = self.session.frame(playing=self.playing.is_set())
        self.version += 1

    def _run(self) -> None:
        while not self.closed.is_set():
            if not self.playing.wait(0.1):
                continue
            self.session.train(seconds=FRAME_SECONDS)
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

    def new(self) -> tuple[str, Live]:
        with self.lock:
            while len(self.live) >= MOST_SESSIONS:  # pages that never opened their stream
                oldest = next(iter(self.live))
                self.live.pop(oldest).close()
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

    def close_all(self) -> None:
        for key in list(self.live):
            self.close(key)


class LocalOnly:
    """ASGI middleware: only the page's own host and origin get through (see above)."""

    def __init__(self, app: Any, hosts: set[str]) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            origin = headers.get("origin")
            why = None
            if headers.get("host") not in self.hosts:
                why = f"host {headers.get('host')!r} is not this playground's address"
            elif origin is not None and origin not in {f"http://{h}" for h in self.hosts}:
                why = f"origin {origin!r} is not this playground's page"
            elif scope["method"] not in ("GET", "HEAD") and origin is None:
                why = "a request that changes something must come from the playground's page"
            if why is not None:
                response = Response(f"refused: {why}", 403, media_type="text/plain")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(hosts: set[str], stopping: Callable[[], bool] = lambda: False) -> Any:
    """The ASGI app, answering only for ``hosts`` (``"127.0.0.1:8765"`` and the like).
    ``stopping()`` turning True (the server got Ctrl-C) ends the event streams, so the
    server can close every connection and stop at once."""
    sessions = Sessions()

    async def index(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"), headers=HEADERS)

    async def create(request: Request) -> Response:
        key, live = sessions.new()
        return _json(
            {
                "id": key,
                "frame": live.frame,
                "points": live.session.points(),
                "parameters": _parameters(live),
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

    async def _body(request: Request) -> Any:
        try:
            return await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    async def build(request: Request) -> Response:
        live = _live(request)
        if live is None:
            return _error("no such session; reload the page", 404)
        try:
            settings = parse((await _body(request) or {}).get("settings"))
        except SettingError as error:
            return _error(str(error), 400, error.field)
        except AttributeError:
            return _error("send a JSON object with the settings", 400)
        live.playing.clear()
        await asyncio.to_thread(live.session.build, settings)
        live.publish()
        return _json(
            {"frame": live.frame, "points": live.session.points(), "parameters": _parameters(live)}
        )

    async def control(request: Request) -> Response:
        live = _live(request)
        if live is None:
            return _error("no such session; reload the page", 404)
        action = (await _body(request) or {}).get("action")
        if action == "play":
            if live.session.stopped:
                return _error(live.session.stopped, 409)
            live.playing.set()
        elif action == "pause":
            live.playing.clear()
        elif action == "step":
            live.playing.clear()
            await asyncio.to_thread(live.session.train, 1.0, 1)
        elif action == "reset":
            live.playing.clear()
            await asyncio.to_thread(live.session.build, live.session.settings)
        else:
            return _error(f"action must be play, pause, step or reset; got {action!r}")
        live.publish()
        return _json({"frame": live.frame})

    async def events(request: Request) -> Response:
        key = request.path_params["key"]
        live = sessions.get(key)
        if live is None:
            return _error("no such session; reload the page", 404)

        async def stream():
            live.streams += 1
            sent, build = -1, live.frame.get("build")
            try:
                while not live.closed.is_set() and not stopping():
                    if live.version != sent:
                        sent, frame = live.version, live.frame
                        payload = dict(frame)
                        if frame["build"] != build:  # a new network: its data too
                            build = frame["build"]
                            payload["points"] = live.session.points()
                            payload["parameters"] = _parameters(live)
                        yield f"data: {json.dumps(clean(payload))}\n\n"
                    await asyncio.sleep(FRAME_SECONDS / 2)
            finally:
                live.streams -= 1
                if live.streams == 0:  # the page went away: stop training it
                    sessions.close(key)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers=HEADERS | {"X-Accel-Buffering": "no"}
        )

    async def backward(request: Request) -> Response:
        live = _live(request)
        if live is None:
            return _error("no such session; reload the page", 404)
        live.playing.clear()
        try:
            result = await asyncio.to_thread(backprop.backward_pass, live.session)
        except RuntimeError as error:
            return _error(str(error), 409)
        live.publish()
        return _json(result)

    async def gradcheck(request: Request) -> Response:
        live = _live(request)
        if live is None:
            return _error("no such session; reload the page", 404)
        name = (await _body(request) or {}).get("parameter")
        try:
            result = await asyncio.to_thread(backprop.gradcheck, live.session, str(name))
        except KeyError as error:
            return _error(error.args[0], 400, "parameter")
        return _json(result)

    async def download(request: Request) -> Response:
        live = _live(request)
        name = request.path_params["name"]
        if live is None:
            return _error("no such session; reload the page", 404)
        made = {
            "model.safetensors": (export.weights, "application/octet-stream"),
            "config.json": (_config_bytes, "application/json"),
            "train.py": (_train_bytes, "text/plain; charset=utf-8"),
        }
        if name not in made:
            return _error(f"no export named {name!r}; there are {', '.join(made)}", 404)
        maker, media = made[name]
        content = await asyncio.to_thread(maker, live.session)
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(content, media_type=media, headers=HEADERS | disposition)

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
            Route(f"{api}/events", events),
            Route(f"{api}/backward", backward, methods=["POST"]),
            Route(f"{api}/gradcheck", gradcheck, methods=["POST"]),
            Route(f"{api}/export/{{name}}", download),
            Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.sessions = sessions
    return LocalOnly(app, hosts)


def _parameters(live: Live) -> list[str]:
    return [name for name, _ in live.session.model.named_parameters()]


def _config_bytes(session: Session) -> bytes:
    return json.dumps(clean(export.config(session)), indent=1).encode()


def _train_bytes(session: Session) -> bytes:
    return export.train_script(session).encode()
