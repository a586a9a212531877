"""Authorization by channel: a WebSocket authenticates with its first message, a page route with
the session cookie (302 to /login without one), and create_app refuses a route of either kind
that would skip its check."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Request, get, websocket
from litestar.connection import WebSocket
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

import interfaces.app
from interfaces.app import create_app
from interfaces.auth import authenticated_socket, authorize_page
from tests.conftest import token


@websocket("/feed-test", opt={"role": "viewer"})
@authenticated_socket
async def checked_feed(socket: WebSocket[Any, Any, Any]) -> None:
    principal, gateway_id = socket.state.caller
    await socket.send_json({"subject": principal.subject, "gateway_id": gateway_id})
    await socket.close()


@get("/page-test", opt={"role": "viewer", "channel": "page"}, before_request=authorize_page, sync_to_thread=False)
def checked_page(request: Request[Any, Any, Any]) -> str:
    principal, gateway_id = request.state.caller
    return f"{principal.subject} in {gateway_id}"


@pytest.fixture
def client(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient[Any]]:
    monkeypatch.setattr(interfaces.app, "ROUTES", [*interfaces.app.ROUTES, checked_feed, checked_page])
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def _refused_with(runtime: Any, monkeypatch: pytest.MonkeyPatch, route: Any, match: str) -> None:
    monkeypatch.setattr(interfaces.app, "ROUTES", [*interfaces.app.ROUTES, route])
    with pytest.raises(RuntimeError, match=match):
        create_app(runtime)


def test_create_app_refuses_a_websocket_route_that_skips_the_first_message_check(runtime: Any, monkeypatch: pytest.MonkeyPatch):
    @websocket("/api/v1/scheduler/open-feed", opt={"role": "viewer"})
    async def open_feed(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()

    _refused_with(runtime, monkeypatch, open_feed, "WebSocket route /api/v1/scheduler/open-feed")


def test_create_app_refuses_a_websocket_route_without_a_role(runtime: Any, monkeypatch: pytest.MonkeyPatch):
    @websocket("/roleless-feed")
    @authenticated_socket
    async def roleless(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.close()

    _refused_with(runtime, monkeypatch, roleless, "WebSocket route /roleless-feed")


def test_create_app_refuses_a_page_route_without_the_page_check(runtime: Any, monkeypatch: pytest.MonkeyPatch):
    @get("/open-page", opt={"role": "viewer", "channel": "page"}, sync_to_thread=False)
    def open_page() -> str:
        return ""

    _refused_with(runtime, monkeypatch, open_page, "page route /open-page")


def test_a_websocket_is_authorized_by_its_first_message(client: TestClient[Any]):
    gateway_id = f"gw-{uuid.uuid4().hex[:10]}"
    with client.websocket_connect("/feed-test") as socket:
        socket.send_json({"token": token("viewer", [gateway_id], subject="watcher"), "gateway_id": gateway_id})
        assert socket.receive_json() == {"subject": "watcher", "gateway_id": gateway_id}


def test_a_websocket_without_a_gateway_gets_the_servers_own(client: TestClient[Any], settings: Any):
    with client.websocket_connect("/feed-test") as socket:
        socket.send_json({"token": token("viewer")})
        assert socket.receive_json() == {"subject": "tester", "gateway_id": settings.gateway_id}


@pytest.mark.parametrize(("message", "code"), [
    ({"token": "not-a-jwt"}, 4401),
    ({}, 4401),
    ({"token": token("viewer", ["gw-granted"]), "gateway_id": "gw-not-granted"}, 4403),
    ({"token": token("viewer"), "gateway_id": "no spaces allowed"}, 4400),
])
def test_a_websocket_whose_first_message_does_not_authorize_is_closed(client: TestClient[Any], message: Any, code: int):
    with client.websocket_connect("/feed-test") as socket:
        socket.send_json(message)
        refusal = socket.receive_json()  # told why (docs/live-feed.md, auth_invalid), then closed
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert (refusal["type"], refusal["code"]) == ("auth_invalid", code) and refusal["reason"]
    assert closed.value.code == code


def test_a_page_without_a_session_redirects_to_login_and_back(client: TestClient[Any]):
    answer = client.get("/page-test?x=1&y=2", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "/login?next=%2Fpage-test%3Fx%3D1%26y%3D2"
    assert answer.text == ""


def test_a_page_with_a_session_takes_header_else_selection_else_the_servers_gateway(
    client: TestClient[Any], settings: Any,
):
    client.cookies.set("session_token", token("viewer", subject="reader"))
    try:
        assert client.get("/page-test").text == f"reader in {settings.gateway_id}"
        assert client.get("/page-test?gateway_id=gw-selected").text == "reader in gw-selected"
        named = client.get("/page-test?gateway_id=gw-selected", headers={"X-Gateway-ID": "gw-header"})
        assert named.text == "reader in gw-header"
    finally:
        client.cookies.clear()


def test_a_page_outside_the_sessions_grants_is_forbidden_in_plain_text(client: TestClient[Any]):
    client.cookies.set("session_token", token("viewer", ["gw-granted"]))
    try:
        answer = client.get("/page-test?gateway_id=gw-other")
    finally:
        client.cookies.clear()
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/plain")
    assert "gw-other" in answer.text
