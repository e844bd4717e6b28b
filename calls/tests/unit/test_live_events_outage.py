"""A channel-layer outage is logged once with its cause, not a traceback per
failed live-event publish."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from calls.runtime.bus import layer_failure, live_events


class DownLayer:
    def __init__(self) -> None:
        self.down = True

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")


@pytest.fixture
def down_layer(monkeypatch: pytest.MonkeyPatch) -> DownLayer:
    layer = DownLayer()
    monkeypatch.setattr(live_events, "get_channel_layer", lambda: layer)
    monkeypatch.setattr(
        live_events, "_outage", layer_failure.OutageLog(live_events.logger, "x")
    )
    return layer


def test_an_outage_is_said_once_with_its_cause(
    down_layer: DownLayer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=live_events.logger.name)

    async def publish_many() -> None:
        for seq in range(300):
            await live_events.publish_delta("CA1", seq, "hello")

    asyncio.run(publish_many())
    records = [r for r in caplog.records if r.name == live_events.logger.name]
    assert len(records) == 1
    assert records[0].exc_info is None
    assert "the channel layer (Redis) is unreachable" in records[0].getMessage()
    assert "Connection refused" in records[0].getMessage()

    down_layer.down = False
    asyncio.run(live_events.publish_delta("CA1", 1, "back"))
    records = [r for r in caplog.records if r.name == live_events.logger.name]
    assert len(records) == 2
    assert "works again" in records[1].getMessage()


def test_a_long_outage_is_reported_again_with_a_count() -> None:
    now = [0.0]
    logger = logging.getLogger("test.outage")
    seen: list[str] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger.addHandler(Handler())
    log = layer_failure.OutageLog(logger, "publish", every=60, clock=lambda: now[0])
    for step in range(200):
        now[0] = step * 0.5
        log.failed(OSError("down"))
    assert len(seen) == 2
    assert "more failures" in seen[1]


def test_describe_names_redis_through_wrapped_causes() -> None:
    try:
        try:
            raise ConnectionRefusedError("refused")
        except OSError as inner:
            raise RuntimeError("pool") from inner
    except RuntimeError as exc:
        assert layer_failure.describe(exc).startswith(
            "the channel layer (Redis) is unreachable"
        )
