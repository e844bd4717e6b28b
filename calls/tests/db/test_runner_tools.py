"""Tools through the runner (fake Twilio and engine leg, no Channels) and the
database side: who answered the call, handoff personas, the ``<Connect action>``
after an assistant ended the call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from assistants.models import Assistant, PhoneNumber
from calls.callstate import CallState
from calls.callstate import actions as a
from calls.engines.base import EngineSettings
from calls.engines.openai_realtime import OpenAIRealtimeEngine
from calls.models import Call, CallAssistant, EndReason
from calls.runtime.assembly import build_personas, build_tools
from calls.runtime.runner import CallRunner
from calls.services.routing import call_assistant_add
from calls.tests.support.frames import (
    CALL_SID,
    rt_response_created,
    rt_response_done,
    rt_session_updated,
    tw_start,
)
from calls.tests.support.frames.fakes import FakeConnector
from calls.tests.support.runner import FakeTwilio, ListRecorder
from calls.tests.support.tools import rt_call, tools_snapshot
from calls.tests.support.twilio_signing import call_params, signed_post
from calls.tests.support.twiml import STREAM_ENDED, VOICE, parse, verbs
from calls.vocabulary.persona import Persona


def make_runner(**kwargs: Any) -> tuple[CallRunner, FakeConnector, ListRecorder]:
    persona = Persona.from_snapshot(tools_snapshot())
    connector = FakeConnector()
    engine = OpenAIRealtimeEngine(
        EngineSettings(api_key="sk-test", url="wss://realtime.test/v1/realtime"),
        connect=connector,
    )
    state = CallState(
        call_sid=CALL_SID,
        persona=persona,
        protocol=engine.protocol(persona),
        connect_on_upgrade=True,
    )
    recorder = ListRecorder()
    runner = CallRunner(
        state=state,
        engine=engine,
        twilio=FakeTwilio(),
        call_log=recorder,
        connect_timeout=3,
        **kwargs,
    )
    return runner, connector, recorder


async def started(runner: CallRunner, connector: FakeConnector) -> None:
    await runner.start()
    await runner.twilio_text(tw_start())
    await connector.leg.wait_for("session.update")
    connector.leg.push(rt_session_updated())


async def test_it_runs_a_webhook_tool_and_times_it() -> None:
    async def lookup(call: a.RunTool) -> a.ToolResult:
        await asyncio.sleep(0.05)
        return a.ToolResult('{"status": "shipped"}')

    runner, connector, recorder = make_runner(tools=lookup)
    await started(runner, connector)
    leg = connector.leg
    leg.push(rt_response_created("resp_2"), rt_call("lookup_order", {"order": "A1"}))
    await leg.wait_for("conversation.item.create")
    assert "response.create" not in leg.types()  # resp_2 is still active
    leg.push(rt_response_done("resp_2", items=()))
    await leg.wait_for("response.create")
    (timing,) = runner.tool_timings
    assert timing.name == "lookup_order"
    assert timing.status == "ok"
    assert timing.duration_ms >= 40
    assert timing.start_delay_ms < 1000
    rows = [w for w in recorder.writes if isinstance(w, a.SaveTranscript)]
    (row,) = [r for r in rows if r.role == a.TOOL]
    assert row.duration_ms == timing.duration_ms
    assert row.text == '{"status": "shipped"}'


async def test_a_tool_that_returns_a_string_still_works_and_errors_are_kept() -> None:
    async def broken(call: a.RunTool) -> str:
        raise RuntimeError("boom")

    runner, connector, recorder = make_runner(tools=broken)
    await started(runner, connector)
    connector.leg.push(rt_call("lookup_order"))
    await connector.leg.wait_for("conversation.item.create")
    (row,) = [
        w
        for w in recorder.writes
        if isinstance(w, a.SaveTranscript) and w.role == a.TOOL
    ]
    assert row.tool_status == a.TOOL_ERROR
    assert "the tool failed" in row.text


async def test_it_hands_off_through_the_personas_seam() -> None:
    asked: list[int] = []

    async def personas(assistant_id: int) -> Persona | None:
        asked.append(assistant_id)
        return Persona(assistant_id=7, name="Spanish", instructions="Habla español.")

    runner, connector, recorder = make_runner(personas=personas)
    await started(runner, connector)
    leg = connector.leg
    leg.push(rt_call("handoff", {"assistant": "Spanish"}))
    await runner.wait_until(lambda: leg.types().count("session.update") == 2)
    await leg.wait_for("response.create")
    assert asked == [7]
    assert runner.state.persona.name == "Spanish"
    joined = [w for w in recorder.writes if isinstance(w, a.AssistantJoined)]
    assert [(j.name, j.handoff) for j in joined] == [
        ("Front desk", False),
        ("Spanish", True),
    ]


async def test_end_call_through_the_runner_ends_as_assistant_ended() -> None:
    runner, connector, recorder = make_runner()
    await started(runner, connector)
    leg = connector.leg
    leg.push(rt_call("end_call"))
    await leg.wait_for("response.create")  # the goodbye
    leg.push(rt_response_created("resp_g"), rt_response_done("resp_g", items=()))
    await asyncio.wait_for(runner.finished.wait(), 3)
    assert recorder.ends == [a.EndCall(a.ASSISTANT_ENDED)]


# -- the database side ----------------------------------------------------------


@pytest.mark.django_db
def test_it_records_who_answered_and_counts_handoffs(
    client: Any, phone_number: PhoneNumber, other_assistant: Assistant
) -> None:
    signed_post(client, VOICE, call_params())
    sid = call_params()["CallSid"]
    call_assistant_add(
        call_sid=sid, assistant_id=phone_number.assistant.pk, name="Front desk"
    )
    call_assistant_add(
        call_sid=sid,
        assistant_id=other_assistant.pk,
        name="After hours",
        offset_ms=4200,
        handoff=True,
    )
    spans = list(CallAssistant.objects.values_list("name", "offset_ms"))
    assert spans == [("Front desk", 0), ("After hours", 4200)]
    assert Call.objects.get(call_sid=sid).handoffs == 1


@pytest.mark.django_db(transaction=True)
async def test_the_personas_seam_loads_an_active_assistant_only(
    other_assistant: Assistant,
) -> None:
    load = build_personas()
    persona = await load(other_assistant.pk)
    assert persona is not None
    assert (persona.name, persona.assistant_id) == ("After hours", other_assistant.pk)
    assert await load(other_assistant.pk + 999) is None


async def test_the_tools_seam_refuses_names_the_persona_has_not() -> None:
    persona = Persona.from_snapshot(tools_snapshot())
    run = build_tools(CALL_SID, lambda: persona)
    result = await run(a.RunTool("call_1", "drop_tables", "{}"))
    assert isinstance(result, a.ToolResult)
    assert result.status == a.TOOL_ERROR


@pytest.mark.parametrize(
    "reason", [EndReason.ASSISTANT_ENDED, EndReason.SILENCE_TIMEOUT]
)
def test_the_connect_action_hangs_up_after_the_assistant_ended(
    client: Any, phone_number: PhoneNumber, reason: str
) -> None:
    signed_post(client, VOICE, call_params())
    Call.objects.update(end_reason=reason)
    root = parse(
        signed_post(client, STREAM_ENDED, call_params(CallStatus="in-progress"))
    )
    assert verbs(root) == ["Hangup"]
