"""The hub's memory of recent live items (interfaces/ws/hub.py), which an overflowed connection
catches up from: complete after a position, per gateway, and saying so when it no longer reaches
back (no database: the items are handed to it as the live subscription would)."""

from __future__ import annotations

from interfaces.ws import hub as hub_module
from interfaces.ws.hub import FeedHub
from interfaces.ws.mailbox import Item


def _item(position: int, gateway_id: str = "gw-a") -> Item:
    return Item(position, gateway_id, "job_completed", frozenset({"job_1"}), frozenset(), f'{{"p":{position}}}')


def test_recent_items_are_the_gateways_after_a_position_until_memory_no_longer_reaches_back(monkeypatch):
    monkeypatch.setattr(hub_module, "RECENT", 3)
    hub = FeedHub(lambda: None)
    for position in range(1, 8):  # 1..7: at 7 items (> 2 x RECENT) the oldest are let go
        hub._remember(_item(position, "gw-a" if position % 2 else "gw-b"))
    assert [i.position for i in hub.recent("gw-a", 4)] == [5, 7]
    assert [i.position for i in hub.recent("gw-b", 4)] == [6]
    assert [i.position for i in hub.recent("gw-a", 5)] == [7] and hub.recent("gw-a", 7) == []
    assert hub.recent("gw-a", 3) is None  # 4 and below were let go: memory no longer reaches back
    hub._remember(None)  # an event the feed does not carry: nothing to remember
    assert [i.position for i in hub.recent("gw-a", 4)] == [5, 7]
