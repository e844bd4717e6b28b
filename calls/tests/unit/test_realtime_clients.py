"""The Realtime leg's WebSocket clients: choosing one, and picows against the simulator.

``realtime.connector`` picks websockets or the optional, faster picows client; the
picows tests run only where picows is installed (the websockets client is covered
by the consumer and end-to-end tests).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

from calls.engines import openai_realtime as realtime
from calls.engines.base import EngineConnection
from calls.engines.openai_realtime import websockets_client as client
from calls.tooling.simulators.realtime_server import SimulatorThread
from calls.vocabulary.persona import Persona

API_KEY = "sk-clients"


def test_it_picks_the_realtime_client_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert realtime.connector("websockets") is client.connect
    with pytest.raises(ValueError, match="must be one of"):
        realtime.connector("aiohttp")
    monkeypatch.setitem(sys.modules, "picows", None)  # as if not installed
    monkeypatch.delitem(
        sys.modules, "calls.engines.openai_realtime.picows_client", raising=False
    )
    assert realtime.connector("auto") is client.connect
    with pytest.raises(ImportError):
        realtime.connector("picows")


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    thread = SimulatorThread(mode="echo", api_key=API_KEY)
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
async def leg(simulator: SimulatorThread) -> AsyncIterator[EngineConnection]:
    pytest.importorskip("picows")
    connect = realtime.connector("picows")
    assert connect is not client.connect
    connection = await connect(
        realtime.build_url(simulator.url, "gpt-realtime"),
        headers=realtime.auth_headers("openai", API_KEY),
        open_timeout=5,
    )
    yield connection
    await connection.close()


async def next_event(messages: AsyncIterator[str | bytes]) -> dict[str, object]:
    event: dict[str, object] = json.loads(await anext(messages))
    return event


async def test_it_exchanges_events_over_picows(
    leg: EngineConnection,
) -> None:
    messages = aiter(leg)
    assert (await next_event(messages))["type"] == "session.created"
    await leg.send(realtime.session_update(Persona(voice="marin", instructions="Hi")))
    assert (await next_event(messages))["type"] == "session.updated"
    await leg.send(realtime.audio_append("//////////8=", json_safe=True))
    kinds = []
    while "response.output_audio.delta" not in kinds:
        event = await next_event(messages)
        kinds.append(event["type"])
    assert event["delta"] == "//////////8="
    await leg.close()
    assert leg.close_code == 1000
    with pytest.raises(ConnectionError):
        await leg.send(realtime.audio_append("AAAA"))


async def test_it_reports_the_peer_close_code_over_picows(
    simulator: SimulatorThread, leg: EngineConnection
) -> None:
    simulator.call(simulator.simulator.drop_all)  # a TCP cut, no close frame
    received = [message async for message in leg]  # ends with the connection
    assert len(received) <= 1  # session.created, if it was not read yet
    assert leg.close_code == 1006


async def test_it_raises_when_picows_is_refused(simulator: SimulatorThread) -> None:
    pytest.importorskip("picows")
    connect = realtime.connector("picows")
    with pytest.raises(Exception, match="401"):
        await connect(
            realtime.build_url(simulator.url, "gpt-realtime"),
            headers=realtime.auth_headers("openai", "sk-wrong"),
            open_timeout=5,
        )
