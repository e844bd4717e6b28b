"""A call whose channel layer (Redis) is unreachable goes on, and its record says
what is missing (it failed silently: the caller heard the apology, the call was
"Failed" with no error, the cause only in the server log)."""

from __future__ import annotations

from typing import Any

import pytest

from calls.models import Call
from calls.runtime import consumer_loop
from calls.tests.db.test_consumer import call, communicator, fetch, start
from calls.tests.support.frames import tw_stop
from calls.tests.support.frames.fakes import FakeConnector

__all__ = ["call"]  # the fixture, shared with the consumer's tests

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_thread_connections"),
]


class DownLayer:
    """A channel layer whose Redis refuses every connection."""

    async def new_channel(self, prefix: str = "specific") -> str:
        return f"{prefix}.down!1"  # channels_redis names it without Redis

    async def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 6399)")

    group_add = group_discard = group_send = send = receive = _refuse


async def test_the_call_goes_on_and_says_the_channel_layer_is_unreachable(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = DownLayer()
    monkeypatch.setattr(consumer_loop, "get_channel_layer", lambda alias: layer)
    connector = FakeConnector()
    comm = communicator(connector)
    await start(comm, connector.leg)  # the engine session opens: the call runs
    await comm.send_to(tw_stop())
    await comm.wait(timeout=3)
    ended, _ = await fetch()
    assert "The channel layer (Redis) is unreachable" in ended.error
    assert "staff could not hang up" in ended.error
