"""Every call-control request answers within a bound, whatever the channel layer
does: a send that never returns, a layer that swallows cancellation, a layer that
is down."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from calls.runtime.bus import control


class StuckLayer:
    """A channel layer whose sends never return (a lost Redis connection)."""

    def __init__(self, *, swallow_cancel: bool = False) -> None:
        self.swallow_cancel = swallow_cancel

    async def new_channel(self) -> str:
        return "specific.reply!1"

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if not self.swallow_cancel:
                    raise

    async def receive(self, channel: str) -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {}


class DownLayer(StuckLayer):
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionRefusedError(111, "Connection refused")


def _ask(layer: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, float]:
    monkeypatch.setattr(control, "get_channel_layer", lambda: layer)
    monkeypatch.setattr(control, "REPLY_TIMEOUT_SECONDS", 0.2)

    async def ask() -> str:
        try:
            await control.hang_up("CA" + "0" * 32, requested_by="alice")
        except control.ControlError as exc:
            return str(exc)
        return "answered"

    async def bounded() -> str:
        # The test's own bound is far above the control bound: a hang fails it.
        return await asyncio.wait_for(ask(), 5)

    started = time.monotonic()
    loop = asyncio.new_event_loop()
    try:
        answer = loop.run_until_complete(bounded())
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.close()
    return answer, time.monotonic() - started


@pytest.mark.parametrize("swallow_cancel", [False, True])
def test_a_send_that_never_returns_is_answered_in_time(
    monkeypatch: pytest.MonkeyPatch, swallow_cancel: bool
) -> None:
    answer, took = _ask(StuckLayer(swallow_cancel=swallow_cancel), monkeypatch)
    assert "not live on any server process" in answer
    assert took < 2


def test_a_layer_that_is_down_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    answer, took = _ask(DownLayer(), monkeypatch)
    assert answer.startswith("the channel layer (Redis) is unreachable")
    assert took < 2


def test_many_concurrent_requests_all_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "get_channel_layer", lambda: StuckLayer())
    monkeypatch.setattr(control, "REPLY_TIMEOUT_SECONDS", 0.2)

    async def one() -> str:
        try:
            await control.hang_up("CA" + "1" * 32, requested_by="bob")
        except control.ControlError as exc:
            return str(exc)
        return "answered"

    async def six() -> list[str]:
        return await asyncio.wait_for(asyncio.gather(*(one() for _ in range(6))), 5)

    answers = asyncio.run(six())
    assert len(answers) == 6
    assert all("not live" in a for a in answers)
