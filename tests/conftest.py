"""Suite-wide fixtures. Every test runs with the network switched off for this process:
glassnet must never download anything, and a test that tried would fail here."""

from __future__ import annotations

import socket

import pytest


class NetworkAccessInTest(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise NetworkAccessInTest(f"a test tried to open a network connection: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated datasets are cached in a folder of the test session, not the user's home."""
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_the_network_guard_works() -> None:
    with pytest.raises(NetworkAccessInTest):
        socket.create_connection(("127.0.0.1", 9))
