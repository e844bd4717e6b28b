"""CallRunner without Channels or a database: a fake Twilio side, a fake engine
leg and a recorder that keeps a list. Tests wait on the runner, not on sleeps."""

from __future__ import annotations

import asyncio

from calls.callstate import EndCall
from calls.callstate import actions as a
from calls.runtime.bus import control
from calls.tests.support.frames import (
    CALL_SID,
    rt_delta,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_tool_call,
    tw_media,
    tw_start,
)
from calls.tests.support.runner import make_runner, started


async def test_it_opens_the_leg_when_the_state_asks_and_configures_it() -> None:
    runner, connector, _, recorder = make_runner()
    await runner.start()  # connect_on_upgrade: OpenEngine at once
    await runner.wait_until(lambda: runner.leg is not None)
    assert (
        connector.calls[0][0]
        == "wss://realtime.test/v1/realtime?model=gpt-realtime-2.1"
    )
    assert connector.leg.types() == []  # nothing before Twilio's start
    await runner.twilio_text(tw_start())
    await connector.leg.wait_for("session.update")
    assert any(isinstance(w, a.CallStarted) for w in recorder.writes)
    assert recorder.heartbeats == 1


async def test_it_runs_a_slow_tool_off_the_audio_path() -> None:
    release, running = asyncio.Event(), asyncio.Event()
    seen: list[a.RunTool] = []

    async def slow_tool(call: a.RunTool) -> str:
        seen.append(call)
        running.set()
        await release.wait()
        return '{"open": "9am"}'

    runner, connector, twilio, _ = make_runner(tools=slow_tool)
    leg = connector.leg
    await started(runner, connector)
    leg.push(rt_tool_call())
    await asyncio.wait_for(running.wait(), 3)
    # While the tool works, caller audio still reaches the engine and assistant
    # audio still reaches the caller.
    for _ in range(5):
        await runner.twilio_text(tw_media())
    await leg.wait_for("input_audio_buffer.append", 5)
    leg.push(
        rt_response_created("resp_2"),
        rt_item_added("resp_2", "item_2"),
        rt_delta("resp_2", "item_2"),
    )
    await runner.wait_until(lambda: any(f["event"] == "media" for f in twilio.sent))
    assert "conversation.item.create" not in leg.types()
    release.set()
    await leg.wait_for("conversation.item.create")
    # resp_2 (which made the call) is still active: the answer waits for it.
    assert "response.create" not in leg.types()
    leg.push(rt_response_done("resp_2", items=()))
    await leg.wait_for("response.create")
    output = next(e for e in leg.sent if e["type"] == "conversation.item.create")
    assert output["item"]["output"] == '{"open": "9am"}'
    assert output["item"]["call_id"] == seen[0].call_id


async def test_it_tells_the_model_when_there_is_no_such_tool() -> None:
    runner, connector, _, _ = make_runner()
    await started(runner, connector)
    connector.leg.push(rt_tool_call())
    await connector.leg.wait_for("conversation.item.create")
    output = next(
        e for e in connector.leg.sent if e["type"] == "conversation.item.create"
    )
    assert "no tool named" in output["item"]["output"]


async def test_it_hangs_up_on_a_control_command_and_records_who() -> None:
    runner, connector, twilio, recorder = make_runner()
    await started(runner, connector)
    reply = await runner.control(control.ControlCommand(control.HANGUP, "alice"))
    assert reply == control.ControlReply(True, f"hanging up {CALL_SID}")
    await asyncio.wait_for(runner.finished.wait(), 3)
    assert twilio.closed_with == [None]  # a normal close: Twilio runs the action
    assert recorder.ends == [EndCall("hung_up_by_staff", "", None, ended_by="alice")]
    assert connector.leg.closed
    rows = [w for w in recorder.writes if isinstance(w, a.SaveTranscript)]
    assert [r.text for r in rows] == ["Hung up by alice"]
    late = await runner.control(control.ControlCommand(control.HANGUP, "bob"))
    assert late == control.ControlReply(False, "the call is already ending")


async def test_it_ends_the_call_when_the_engine_cannot_be_reached() -> None:
    runner, connector, twilio, recorder = make_runner()
    connector.error = OSError("Connection refused")
    await runner.start()
    await asyncio.wait_for(runner.finished.wait(), 3)
    ((end, _),) = recorder.finished
    assert end.reason == "realtime_error"
    assert end.error == "Realtime connect failed: Connection refused"
    assert twilio.closed_with == [None]


async def test_it_ends_as_server_shutdown_and_waits_for_the_record() -> None:
    runner, connector, _, recorder = make_runner()
    await started(runner, connector)
    await runner.shut_down()
    assert runner.finished.is_set()
    assert recorder.finished[0][0].reason == "server_shutdown"


async def test_it_refuses_a_second_transfer_while_the_first_is_under_way() -> None:
    runner, connector, _twilio, recorder = make_runner()
    await started(runner, connector)
    first = control.ControlCommand(
        control.TRANSFER, "alice", "+15550002222", "One moment"
    )
    assert (await runner.control(first)).ok
    second = control.ControlCommand(control.TRANSFER, "bob", "+15550003333", "")
    reply = await runner.control(second)
    assert reply == control.ControlReply(
        False,
        "a transfer asked by alice is already under way; it cannot be replaced",
    )
    rows = [w for w in recorder.writes if isinstance(w, a.SaveTranscript)]
    assert [r.text for r in rows] == [
        "Transferred to +15550002222 by alice: One moment"
    ]
    assert not runner.finished.is_set()  # the first one's message is being said
