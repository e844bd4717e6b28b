"""A slow webhook tool's filler, in the pure call state: said once the call has
lasted a moment, as an assistant turn of its own, never over anybody, and the
result read out after it. On both engines. No I/O."""

from __future__ import annotations

from typing import Any

from calls.callstate import SaveTranscript, StartTimer
from calls.callstate import actions as a
from calls.callstate.filler import FILLER_AFTER_MS
from calls.tests.support.frames import (
    rt_audio_done,
    rt_delta,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_speech_started,
    rt_speech_stopped,
    tw_mark,
)
from calls.tests.support.frames.harness import Harness, of_type, realtime_out
from calls.tests.support.live_frames import (
    SILENCE,
    LiveHarness,
    live_snapshot,
    lv_audio,
    lv_said,
    lv_tool_call,
)
from calls.tests.support.tools import TOOLS, rt_call, tools_snapshot

FILLER = "One moment while I check."


def with_filler(filler: str = FILLER) -> dict[str, Any]:
    webhooks = [{**TOOLS["webhooks"][0], "filler": filler}]
    return tools_snapshot(webhooks=webhooks, silence={})


def filler_timer(actions: list[a.Action]) -> StartTimer:
    (timer,) = [
        t
        for t in actions
        if isinstance(t, StartTimer) and t.name.startswith("tool_filler:")
    ]
    return timer


def requests(actions: list[a.Action]) -> list[dict[str, Any]]:
    return [e for e in realtime_out(actions) if e["type"] == "response.create"]


def slow_call(h: Harness) -> StartTimer:
    """The model calls the tool in resp_2, which then ends."""
    h.rt(rt_response_created("resp_2"))
    out = h.rt(rt_call("lookup_order", {"order": "A1"}))
    h.rt(rt_response_done("resp_2", items=()))
    return filler_timer(out)


def test_it_says_the_filler_once_the_call_lasted_a_moment() -> None:
    h = Harness(with_filler()).ready()
    timer = slow_call(h)
    assert timer == StartTimer("tool_filler:call_1", FILLER_AFTER_MS)
    (said,) = requests(h.timer(timer.name))
    assert said["event_id"] == "evt_filler"
    assert FILLER in said["response"]["instructions"]
    # Its turn is an assistant row like any other.
    h.rt(rt_response_created("resp_f"))
    h.rt(rt_item_added("resp_f", "item_f"))
    h.rt(rt_delta("resp_f", "item_f"))
    h.rt(rt_audio_done("resp_f", "item_f"))
    # The result comes while the filler is said: the answer waits for it.
    out = h.state.on_tool_result("call_1", '{"status": "shipped"}', h.now)
    assert requests(out) == []
    done = h.rt(rt_response_done("resp_f", items=(("item_f", FILLER),)))
    (row,) = of_type(done, SaveTranscript)
    assert (row.role, row.text) == ("assistant", FILLER)
    (answer,) = requests(done)
    assert answer["event_id"] == "evt_tool"
    assert h.timer(timer.name) == []  # said once


def test_the_deployment_sets_how_long_a_call_runs_before_its_filler() -> None:
    h = Harness(with_filler(), tool_filler_after_ms=2_500).ready()
    assert slow_call(h).delay_ms == 2_500


def test_no_filler_when_the_result_comes_first_or_the_tool_has_none() -> None:
    h = Harness(with_filler()).ready()
    timer = slow_call(h)
    h.state.on_tool_result("call_1", "{}", h.now)
    assert h.timer(timer.name) == []
    plain = Harness(with_filler("")).ready()
    plain.rt(rt_response_created("resp_2"))
    out = plain.rt(rt_call("lookup_order", {"order": "A1"}))
    assert [t.name for t in of_type(out, StartTimer)] == []


def test_it_never_talks_over_the_assistant() -> None:
    h = Harness(with_filler()).ready()
    h.rt(rt_response_created("resp_2"))
    h.rt(rt_item_added("resp_2", "item_A2"))  # "Let me look that up."
    h.rt(rt_delta("resp_2", "item_A2"))
    out = h.rt(rt_call("lookup_order", {"order": "A1"}))
    h.rt(rt_audio_done("resp_2", "item_A2"))
    h.rt(rt_response_done("resp_2", items=(("item_A2", "Let me look."),)))
    # Its audio is still playing at Twilio when the moment comes.
    assert requests(h.timer(filler_timer(out).name)) == []
    (said,) = requests(h.tw(tw_mark("item_A2:100")))
    assert FILLER in said["response"]["instructions"]


def test_it_never_talks_over_the_caller_and_lets_the_model_answer_first() -> None:
    h = Harness(with_filler()).ready()
    timer = slow_call(h)
    h.rt(rt_speech_started("item_U3"))
    assert requests(h.timer(timer.name)) == []
    # The caller stops: the engine answers them itself; the filler waits.
    assert requests(h.rt(rt_speech_stopped("item_U3"))) == []
    h.rt(rt_response_created("resp_3"))
    h.rt(rt_item_added("resp_3", "item_A3"))
    h.rt(rt_delta("resp_3", "item_A3"))
    h.rt(rt_audio_done("resp_3", "item_A3"))
    assert requests(h.rt(rt_response_done("resp_3", items=()))) == []  # playing
    (said,) = requests(h.tw(tw_mark("item_A3:100")))
    assert FILLER in said["response"]["instructions"]


def test_gpt_live_says_the_filler_as_an_instruction_then_continues() -> None:
    tools = with_filler()["tools"]
    h = LiveHarness(live_snapshot(tools=tools)).ready()
    timer = filler_timer(h.lv(lv_tool_call("call_7", "lookup_order")))
    (said,) = realtime_out(h.state.on_timer(timer.name, h.now))
    assert said["type"] == "session.instructions.append"
    assert FILLER in said["content"]
    h.lv(lv_audio(), at=h.now + 10)  # the filler spoken
    h.lv(lv_said(FILLER, 0, 300))
    result = h.state.on_tool_result("call_7", '{"status": "shipped"}', h.now)
    assert [e["type"] for e in realtime_out(result)] == ["response.item.create"]
    done: list[a.Action] = []
    for _ in range(40):  # the model falls silent: its turn ends
        done += h.lv(lv_audio(SILENCE))
    (row,) = [r for r in of_type(done, SaveTranscript) if r.role == "assistant"]
    assert row.text == FILLER
    assert [e["type"] for e in realtime_out(done)] == ["response.create"]
