"""Realtime (GA) builders, the server-event parser, usage mapping and the ws client
(the client against a tiny websockets server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus

from calls.engines import openai_realtime as realtime
from calls.tests.support.frames import dumps, load
from calls.tests.support.frames.harness import persona
from calls.vocabulary.persona import Persona


def session(snap: Persona) -> dict[str, Any]:
    session: dict[str, Any] = json.loads(realtime.session_update(snap))["session"]
    return session


def test_it_configures_a_server_vad_session_from_the_snapshot() -> None:
    event = json.loads(realtime.session_update(persona(transcription_language="de")))
    assert event["type"] == "session.update"
    assert event["event_id"] == realtime.SESSION_UPDATE_EVENT_ID
    assert event["session"] == {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": "You answer the phone for ACME Dental. Be brief.",
        "audio": {
            "input": {
                "format": {"type": "audio/pcmu"},
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "create_response": True,
                    "interrupt_response": True,
                },
                "transcription": {"model": "gpt-4o-mini-transcribe", "language": "de"},
            },
            "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"},
        },
    }


def test_it_configures_semantic_vad_and_no_transcription() -> None:
    s = session(
        persona(
            turn_detection="semantic_vad",
            vad_eagerness="low",
            transcription_model="",
            voice="cedar",
        )
    )
    assert s["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": True,
    }
    assert "transcription" not in s["audio"]["input"]
    assert s["audio"]["output"]["voice"] == "cedar"


def test_it_builds_the_other_client_events() -> None:
    assert json.loads(realtime.audio_append("AAAA", json_safe=True)) == {
        "type": "input_audio_buffer.append",
        "audio": "AAAA",
    }
    assert json.loads(realtime.audio_append('A"B')) == {
        "type": "input_audio_buffer.append",
        "audio": 'A"B',
    }
    assert json.loads(realtime.item_truncate("item_1", -5)) == {
        "type": "conversation.item.truncate",
        "item_id": "item_1",
        "content_index": 0,
        "audio_end_ms": 0,
    }
    assert json.loads(realtime.response_create()) == {"type": "response.create"}
    assert json.loads(realtime.response_create("Hi", event_id="evt_x")) == {
        "type": "response.create",
        "event_id": "evt_x",
        "response": {"instructions": "Hi"},
    }
    assert json.loads(realtime.response_cancel("resp_1")) == {
        "type": "response.cancel",
        "response_id": "resp_1",
    }


def test_it_parses_the_recorded_server_events() -> None:
    def parse(name: str) -> Any:
        return realtime.parse(dumps(load(f"realtime_{name}")))

    assert parse("session_updated") == realtime.SessionUpdated(
        "audio/pcmu", "audio/pcmu", "marin"
    )
    assert parse("speech_started") == realtime.SpeechStarted("item_U1", 10520)
    assert parse("speech_stopped") == realtime.SpeechStopped("item_U1", 12300)
    assert parse("committed") == realtime.Committed("item_U1")
    assert parse("input_transcription_completed") == (
        realtime.InputTranscriptCompleted("item_U1", "I'd like to book a table.")
    )
    assert parse("input_transcription_failed") == realtime.InputTranscriptFailed(
        "item_U2", "Transcription failed"
    )
    assert parse("response_created") == realtime.ResponseCreated("resp_1")
    assert parse("output_item_added") == realtime.OutputItemAdded(
        "resp_1", "item_A1", "message", "assistant"
    )
    assert parse("output_audio_delta") == realtime.AudioOut(
        "resp_1", "item_A1", "f39/fw==", True
    )
    assert parse("output_audio_done") == realtime.AudioDone("resp_1", "item_A1")
    assert parse("output_audio_transcript_done").transcript == (
        "Sure, for how many people?"
    )
    assert parse("function_call_arguments_done").call_id == "call_X9"
    assert parse("item_truncated") == realtime.ItemTruncated("item_A1", 1840)
    assert parse("rate_limits_updated") == realtime.Other("rate_limits.updated")
    error = parse("error_session_expired")
    assert (error.code, error.fatal) == ("session_expired", True)
    assert parse("error_unknown_parameter").event_id == "evt_session_update"


def test_it_parses_response_done() -> None:
    done = realtime.parse(dumps(load("realtime_response_done")))
    assert isinstance(done, realtime.ResponseDone)
    assert (done.response_id, done.status, done.reason) == (
        "resp_1",
        "cancelled",
        "turn_detected",
    )
    assert done.transcripts == (("item_A1", "Sure, for how"),)
    assert realtime.usage_fields(done.usage)["cached_audio_tokens"] == 68


def test_it_maps_usage_without_a_cached_split() -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 3,
        "input_token_details": {"cached_tokens": 4, "text_tokens": 10},
    }
    assert realtime.usage_fields(usage) == {
        "input_tokens": 10,
        "output_tokens": 3,
        "input_text_tokens": 10,
        "cached_text_tokens": 4,
    }
    assert realtime.usage_fields(None) == {}
    assert realtime.usage_fields({"input_tokens": "many"}) == {}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "[]",
        "{}",
        '{"type": 3}',
        '{"type": "response.output_audio.delta", "item_id": "i"}',
        '{"type": "response.done"}',
        '{"type": "response.output_item.added"}',
    ],
)
def test_it_rejects_garbage(text: str) -> None:
    with pytest.raises(realtime.EventError):
        realtime.parse(text)


def test_it_builds_the_url_and_auth_headers() -> None:
    base = "wss://api.openai.com/v1/realtime"
    assert realtime.build_url(base, "gpt-realtime-2.1") == (
        base + "?model=gpt-realtime-2.1"
    )
    assert realtime.build_url(base + "?x=1", "a b&c") == base + "?x=1&model=a%20b%26c"
    assert realtime.auth_headers("openai", "sk-1") == {"Authorization": "Bearer sk-1"}
    assert realtime.auth_headers("azure", "k") == {"api-key": "k"}


async def test_it_talks_to_a_websocket_server_without_compression() -> None:
    seen: dict[str, Any] = {}

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None  # set once the handshake is done
        seen["auth"] = ws.request.headers.get("Authorization")
        seen["path"] = ws.request.path
        seen["extensions"] = ws.request.headers.get("Sec-WebSocket-Extensions")
        seen["first"] = await ws.recv()
        await ws.send('{"type": "session.updated"}')
        await ws.close(1000, "done")

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        url = realtime.build_url(f"ws://127.0.0.1:{port}/v1/realtime", "m1")
        conn = await realtime.connect(
            url, headers=realtime.auth_headers("openai", "sk-x"), open_timeout=5
        )
        await conn.send(realtime.response_create())
        received = [m async for m in conn]
        await conn.close()
    assert received == ['{"type": "session.updated"}']
    assert (conn.close_code, conn.close_reason) == (1000, "done")
    assert seen == {
        "auth": "Bearer sk-x",
        "path": "/v1/realtime?model=m1",
        "extensions": None,
        "first": '{"type":"response.create"}',
    }


async def test_it_raises_when_the_server_refuses_the_handshake() -> None:
    async def handler(ws: ServerConnection) -> None:  # pragma: no cover
        await ws.close()

    def reject(conn: Any, request: Any) -> Any:
        return conn.respond(401, "invalid_api_key\n")

    async with serve(handler, "127.0.0.1", 0, process_request=reject) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        with pytest.raises(InvalidStatus):
            await realtime.connect(
                f"ws://127.0.0.1:{port}/", headers={}, open_timeout=5
            )


async def test_it_times_out_opening_a_leg_that_never_answers() -> None:
    writers: list[asyncio.StreamWriter] = []

    async def silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writers.append(writer)  # accepts the TCP connection, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TimeoutError):
            await realtime.connect(
                f"ws://127.0.0.1:{port}/", headers={}, open_timeout=0.2
            )
    finally:
        for writer in writers:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()
