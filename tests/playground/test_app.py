"""The playground's server without a browser (Starlette's TestClient): only its own page
may drive it, bad settings are refused with the field named, the files it serves are its
own, and the command line starts and refuses as it should."""

from __future__ import annotations

import socket
import sys

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")
pytest.importorskip("httpx2", reason="the test extra is not installed")

from starlette.testclient import TestClient

import glassnet as gn
from glassnet.cli import main
from glassnet.playground import server
from glassnet.playground.app import create_app

OWN = {"Origin": "http://testserver"}


@pytest.fixture
def client():
    with TestClient(create_app({"testserver"})) as c:
        yield c


def _session(client) -> str:
    response = client.post("/api/sessions", headers=OWN)
    assert response.status_code == 200
    return response.json()["id"]


def test_the_page_and_its_files_are_served_with_a_strict_policy(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "<title>glassnet playground</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    for outside in ("/static/../session.py", "/static/%2e%2e/session.py", "/etc/passwd",
                    "/api/sessions/x/export/../../app.py"):  # fmt: skip
        assert client.get(outside).status_code == 404, outside


def test_requests_from_other_origins_and_hosts_are_refused(client) -> None:
    assert client.post("/api/sessions").status_code == 403  # no Origin: not from the page
    evil = client.post("/api/sessions", headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and "not this playground's page" in evil.text
    rebound = client.get("/", headers={"Host": "evil.example"})  # DNS rebinding
    assert rebound.status_code == 403 and "not this playground's address" in rebound.text
    key = _session(client)
    sneaky = client.post(f"/api/sessions/{key}/control", json={"action": "play"},
                         headers={"Origin": "http://localhost:1"})  # fmt: skip
    assert sneaky.status_code == 403


def test_a_bad_setting_is_refused_and_the_session_keeps_working(client) -> None:
    key = _session(client)
    bad = client.post(f"/api/sessions/{key}/build", headers=OWN,
                      json={"settings": {"layers": [{"width": 0}]}})  # fmt: skip
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "layer 1: width must be a whole number from 1 to 256; got 0",
        "field": "layers.0.width",
    }
    for text in ("not json", "[]"):
        refused = client.post(
            f"/api/sessions/{key}/build",
            headers=OWN | {"Content-Type": "application/json"},
            content=text,
        )
        assert refused.status_code == 400
    step = client.post(f"/api/sessions/{key}/control", headers=OWN, json={"action": "step"})
    assert step.status_code == 200 and step.json()["frame"]["step"] == 1
    built = client.post(f"/api/sessions/{key}/build", headers=OWN,
                        json={"settings": {"dataset": "xor", "layers": [{"width": "5"}]}})  # fmt: skip
    assert built.status_code == 200 and built.json()["frame"]["step"] == 0
    assert built.json()["parameters"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    nonsense = client.post(f"/api/sessions/{key}/control", headers=OWN, json={"action": "fly"})
    assert nonsense.status_code == 400 and "play, pause, step or reset" in nonsense.json()["error"]
    assert (
        client.post("/api/sessions/nope/control", headers=OWN, json={"action": "step"}).status_code
        == 404
    )


def test_backward_gradcheck_and_export_over_http(client, tmp_path) -> None:
    key = _session(client)
    shown = client.post(f"/api/sessions/{key}/backward", headers=OWN).json()
    assert [n["op"] for n in shown["nodes"]][:3] == ["LabelCrossEntropy", "Linear", "ReLU"]
    checked = client.post(
        f"/api/sessions/{key}/gradcheck", headers=OWN, json={"parameter": "2.weight"}
    )
    assert checked.json()["relative_error"] < 1e-6
    missing = client.post(f"/api/sessions/{key}/gradcheck", headers=OWN, json={"parameter": "w"})
    assert missing.status_code == 400 and "0.weight" in missing.json()["error"]
    weights = client.get(f"/api/sessions/{key}/export/model.safetensors")
    assert weights.headers["content-disposition"] == 'attachment; filename="model.safetensors"'
    (tmp_path / "model.safetensors").write_bytes(weights.content)
    assert set(gn.load(tmp_path / "model.safetensors")) == {
        f"{i}.{k}" for i in (0, 2, 4) for k in ("weight", "bias")
    }
    assert (
        client.get(f"/api/sessions/{key}/export/config.json").json()["format"]
        == "glassnet-playground/1"
    )
    assert "nn.Sequential(" in client.get(f"/api/sessions/{key}/export/train.py").text
    assert client.get(f"/api/sessions/{key}/export/secrets.txt").status_code == 404


def test_a_taken_port_is_named() -> None:
    taken = server.bind(0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(
            OSError, match=f"port {port} on 127.0.0.1 is taken; choose another with --port"
        ):
            server.bind(port)
    finally:
        taken.close()


def test_the_server_listens_on_loopback_only() -> None:
    sock = server.bind(0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1" and sock.family == socket.AF_INET
    finally:
        sock.close()


def test_the_command_refuses_a_port_out_of_range(capsys) -> None:
    assert main(["playground", "--port", "70000", "--no-browser"]) == 2
    assert "--port must be from 1 to 65535" in capsys.readouterr().err


def test_the_training_thread_stops_when_the_page_goes_away() -> None:
    """A page's event stream is its life line: when it closes, the session's thread stops
    and the session is gone."""
    app = create_app({"testserver"})
    with TestClient(app) as client:
        key = _session(client)
        sessions = app.app.state.sessions
        live = sessions.get(key)
        assert (
            client.post(
                f"/api/sessions/{key}/control", headers=OWN, json={"action": "play"}
            ).status_code
            == 200
        )
        with client.websocket_connect(f"/api/sessions/{key}/live", headers=OWN) as socket:
            first = socket.receive_json()  # a new page: its data first, then frames
            assert first["type"] == "points" and first["data"]["points"]["classes"] == [
                "arm 0",
                "arm 1",
            ]
            steps = [socket.receive_json()["data"]["step"] for _ in range(3)]
            assert steps == sorted(steps) and steps[-1] > 0  # training, live
        for _ in range(200):  # after the grace for a reconnect (3 s)
            if not live.thread.is_alive():
                break
            live.thread.join(0.05)
        assert not live.thread.is_alive() and sessions.get(key) is None


def test_malformed_requests_get_a_400_not_a_crash(client) -> None:
    key = _session(client)
    bodies = ["[1]", '"play"', "[" * 100_000, '{"action": ' + "9" * 5000 + "}", "{", "x" * 70_000]
    for body in bodies:
        for route in ("build", "control", "gradcheck"):
            response = client.post(f"/api/sessions/{key}/{route}", content=body,
                                   headers=OWN | {"Content-Type": "application/json"})  # fmt: skip
            assert response.status_code == 400, (route, body[:20], response.text)


def test_every_response_carries_the_security_headers(client) -> None:
    for response in (
        client.get("/static/app.js"),
        client.get("/nowhere"),
        client.post("/api/sessions"),  # refused: no Origin
        client.post("/api/sessions", headers=OWN),
    ):
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
    refused = client.get("/", headers={"Host": "evil.example"})
    assert "evil" not in refused.text  # what was sent is not echoed back


def test_open_pages_are_never_pushed_out_by_new_ones() -> None:
    from glassnet.playground.app import MOST_SESSIONS, Sessions

    sessions = Sessions()
    try:
        made = [sessions.new() for _ in range(MOST_SESSIONS)]
        for _, live in made:
            live.streams = 1  # every page open and streaming
        assert sessions.new() is None  # the 17th page is refused, not one of theirs closed
        made[5][1].streams = 0  # one page went away
        key, _ = sessions.new()
        assert sessions.get(made[5][0]) is None and sessions.get(key) is not None
        assert all(sessions.get(k) is not None for k, _ in made[:5] + made[6:])
    finally:
        sessions.close_all()


def test_the_live_socket_needs_the_pages_origin_and_a_session(client) -> None:
    from starlette.websockets import WebSocketDisconnect

    key = _session(client)
    for headers in ({}, {"Origin": "http://evil.example"}, OWN | {"Host": "evil.example"}):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect(f"/api/sessions/{key}/live", headers=headers),
        ):
            pass
        assert refused.value.code == 1008, headers
    with (
        pytest.raises(WebSocketDisconnect) as gone,
        client.websocket_connect("/api/sessions/nobody/live", headers=OWN),
    ):
        pass
    assert gone.value.code == 4404


def test_without_the_extra_the_command_names_it(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed
    assert main(["playground", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "needs the 'playground' extra (uvicorn is missing)" in err
    assert 'pip install "glassnet[playground]"' in err
