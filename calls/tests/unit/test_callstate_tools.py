"""Assistants that act, in the pure call state: function calls, their answers,
end_call, transfer, handoff, the keypad and the silence clock. No I/O."""

from __future__ import annotations

import json
from typing import Any

from calls.callstate import EndCall, SaveTranscript, StartTimer
from calls.callstate import actions as a
from calls.callstate.actions import ToolResult
from calls.callstate.goodbye import GENERIC_GOODBYE, SAY_EXACTLY
from calls.tests.support.frames import (
    rt_audio_done,
    rt_delta,
    rt_error,
    rt_item_added,
    rt_response_created,
    rt_response_done,
    rt_speech_started,
    rt_speech_stopped,
    tw_dtmf,
    tw_mark,
    tw_start,
)
from calls.tests.support.frames.harness import Harness, of_type, realtime_out, snapshot
from calls.tests.support.live_frames import LiveHarness, live_snapshot, lv_tool_call
from calls.tests.support.tools import rt_call, tools_snapshot
from calls.vocabulary.persona import Persona


def harness(**changes: Any) -> Harness:
    return Harness(tools_snapshot(**changes)).ready()


def sent_types(actions: list[a.Action]) -> list[str]:
    return [e["type"] for e in realtime_out(actions)]


def speaks(h: Harness, response_id: str, item_id: str) -> None:
    """A response that says 100 ms and finishes generating (not yet played)."""
    h.rt(rt_response_created(response_id))
    h.rt(rt_item_added(response_id, item_id))
    h.rt(rt_delta(response_id, item_id))
    h.rt(rt_audio_done(response_id, item_id))
    h.rt(rt_response_done(response_id, items=((item_id, "Words."),)))


def ends(h: Harness) -> list[EndCall]:
    return of_type(h.log, EndCall)


# -- function calls and their answers ------------------------------------------


def test_it_runs_a_webhook_tool_and_answers_only_once_the_response_is_done() -> None:
    h = harness()
    h.rt(rt_response_created("resp_2"))
    (run,) = of_type(h.rt(rt_call("lookup_order", {"order": "A1"})), a.RunTool)
    assert (run.name, run.call_id) == ("lookup_order", "call_1")
    out = h.state.on_tool_result("call_1", ToolResult('{"status": "shipped"}'), 5)
    # The output goes in at once; the response request waits for resp_2.
    assert sent_types(out) == ["conversation.item.create"]
    done = h.rt(rt_response_done("resp_2", items=()))
    assert sent_types(done) == ["response.create"]
    assert realtime_out(done)[0]["event_id"] == "evt_tool"


def test_it_never_asks_for_a_response_while_one_is_active() -> None:
    h = harness()
    h.rt(rt_call("lookup_order", call_id="call_1", response_id="resp_2"))
    h.rt(rt_response_done("resp_2", items=()))
    h.rt(rt_response_created("resp_3"))  # the model went on by itself
    out = h.state.on_tool_result("call_1", '{"ok": true}', h.now)
    assert sent_types(out) == ["conversation.item.create"]
    assert sent_types(h.rt(rt_response_done("resp_3", items=()))) == ["response.create"]


def test_it_answers_parallel_calls_each_then_asks_for_one_response() -> None:
    h = harness()
    h.rt(rt_response_created("resp_2"))
    h.rt(rt_call("lookup_order", {"order": "A1"}, call_id="call_1"))
    h.rt(rt_call("lookup_order", {"order": "B2"}, call_id="call_2"))
    assert sent_types(h.rt(rt_response_done("resp_2", items=()))) == []
    first = h.state.on_tool_result("call_2", '{"status": "lost"}', h.now)
    assert sent_types(first) == ["conversation.item.create"]
    second = h.state.on_tool_result("call_1", '{"status": "shipped"}', h.now)
    assert sent_types(second) == ["conversation.item.create", "response.create"]
    outputs = [e["item"]["call_id"] for e in realtime_out(first + second)[:2]]
    assert outputs == ["call_2", "call_1"]


def test_it_retries_a_tool_answer_the_engine_refused() -> None:
    h = harness()
    h.rt(rt_call("lookup_order"))
    h.state.on_tool_result("call_1", "{}", h.now)
    h.rt(rt_error("conversation_already_has_active_response", event_id="evt_tool"))
    h.rt(rt_response_created("resp_9"))
    assert sent_types(h.rt(rt_response_done("resp_9", items=()))) == ["response.create"]


def test_it_writes_each_tool_call_as_a_row_where_it_happened() -> None:
    h = harness()
    h.rt(rt_response_created("resp_2"))
    h.rt(rt_item_added("resp_2", "item_A2"))  # the assistant's words: seq 1
    h.rt(rt_call("lookup_order", {"order": "A1"}), at=1000)
    h.rt(rt_speech_started("item_U3"))  # the caller talks on: seq 3
    out = h.state.on_tool_result(
        "call_1", ToolResult('{"error": "down"}', a.TOOL_ERROR), 1800, 750
    )
    (row,) = of_type(out, SaveTranscript)
    assert row.role == a.TOOL
    assert row.seq == 2
    assert row.tool_name == "lookup_order"
    assert json.loads(row.tool_arguments) == {"order": "A1"}
    assert (row.text, row.tool_status, row.duration_ms) == (
        '{"error": "down"}',
        "error",
        750,
    )


def test_it_measures_tool_result_to_first_answer_audio() -> None:
    h = harness()
    h.rt(rt_call("lookup_order"))
    h.rt(rt_response_done("resp_2", items=()))
    h.state.on_tool_result("call_1", "{}", 1000)
    h.rt(rt_response_created("resp_3"), at=1100)
    h.rt(rt_delta("resp_3", "item_A3"), at=1400)
    assert h.state.tool_calls.answer_latencies == [400]


def test_it_names_the_first_assistant_at_the_start() -> None:
    h = Harness(tools_snapshot())
    h.tw(tw_start())
    assert of_type(h.log, a.AssistantJoined) == [
        a.AssistantJoined(1, "Front desk", 0, handoff=False)
    ]


# -- end_call ------------------------------------------------------------------


def test_end_call_says_the_goodbye_then_ends_once_it_played() -> None:
    h = harness()
    h.rt(rt_response_created("resp_2"))
    out = h.rt(rt_call("end_call", {"reason": "done"}))
    (row,) = of_type(out, SaveTranscript)
    assert (row.tool_name, row.tool_status) == ("end_call", "ok")
    assert sent_types(out) == ["conversation.item.create"]  # no answer wanted
    assert StartTimer(a.TIMER_GOODBYE, 15_000) in out
    done = h.rt(rt_response_done("resp_2", items=()))
    (goodbye,) = realtime_out(done)
    assert goodbye["response"]["instructions"] == SAY_EXACTLY.format(
        message="Thanks for calling, bye!"
    )
    speaks(h, "resp_g", "item_g")
    assert ends(h) == []  # still playing at Twilio
    h.tw(tw_mark("item_g:100"))
    assert ends(h) == [EndCall(a.ASSISTANT_ENDED)]


def test_end_call_without_a_goodbye_lets_the_last_words_play_out() -> None:
    h = harness(end_call={"enabled": True, "goodbye": ""})
    h.rt(rt_response_created("resp_2"))
    h.rt(rt_item_added("resp_2", "item_A2"))
    h.rt(rt_delta("resp_2", "item_A2"))
    h.rt(rt_call("end_call"))
    h.rt(rt_audio_done("resp_2", "item_A2"))
    assert sent_types(h.rt(rt_response_done("resp_2", items=()))) == []
    assert ends(h) == []
    h.tw(tw_mark("item_A2:100"))
    assert ends(h) == [EndCall(a.ASSISTANT_ENDED)]


def test_an_end_call_the_assistant_does_not_have_is_a_webhook_miss() -> None:
    h = harness(end_call={"enabled": False, "goodbye": ""})
    assert of_type(h.rt(rt_call("end_call")), a.RunTool)


# -- transfer_call ---------------------------------------------------------------


def test_transfer_says_the_message_then_ends_as_transferred() -> None:
    h = harness()
    h.rt(rt_response_created("resp_2"))
    out = h.rt(rt_call("transfer_call", {"destination": "billing"}))
    rows = of_type(out, SaveTranscript)
    assert [r.role for r in rows] == [a.TOOL, a.SYSTEM]
    done = h.rt(rt_response_done("resp_2", items=()))
    assert (
        "Putting you through to billing."
        in (realtime_out(done)[0]["response"]["instructions"])
    )
    speaks(h, "resp_t", "item_t")
    h.tw(tw_mark("item_t:100"))
    assert ends(h) == [EndCall(a.TRANSFERRED, "", None, "assistant", "+15550001111")]


def test_a_second_transfer_call_is_refused_and_the_model_told() -> None:
    h = harness()
    h.rt(rt_response_created("resp_2"))
    h.rt(rt_call("transfer_call", {"destination": "billing"}, call_id="call_1"))
    out = h.rt(rt_call("transfer_call", {"destination": "front desk"}, "call_2"))
    (row,) = of_type(out, SaveTranscript)
    assert (row.tool_name, row.tool_status) == ("transfer_call", "error")
    assert "already under way" in json.loads(row.text)["error"]
    (output,) = realtime_out(out)
    assert output["item"]["call_id"] == "call_2"
    h.rt(rt_response_done("resp_2", items=()))
    speaks(h, "resp_3", "item_g")  # the first transfer's message
    h.tw(tw_mark("item_g:100"))
    assert [e.transfer_to for e in ends(h)] == ["+15550001111"]


def test_transfer_to_an_unknown_destination_tells_the_model() -> None:
    h = harness()
    out = h.rt(rt_call("transfer_call", {"destination": "sales"}))
    (row,) = of_type(out, SaveTranscript)
    assert row.tool_status == a.TOOL_ERROR
    output = realtime_out(out)[0]["item"]["output"]
    assert "no transfer destination named 'sales'" in output
    assert ends(h) == []


# -- handoff ---------------------------------------------------------------------


def spanish() -> Persona:
    return Persona.from_snapshot(
        snapshot(
            assistant_id=7,
            name="Spanish",
            instructions="Habla español.",
            voice="cedar",
            tools={"end_call": {"enabled": True}},
        )
    )


def test_handoff_loads_the_persona_then_reconfigures_and_answers() -> None:
    h = harness()
    out = h.rt(rt_call("handoff", {"assistant": "Spanish"}))
    assert of_type(out, a.LoadPersona) == [a.LoadPersona(7, "call_1")]
    h.rt(rt_response_done("resp_2", items=()))
    out = h.state.on_handoff("call_1", spanish(), h.now)
    assert sent_types(out) == [
        "session.update",
        "conversation.item.create",
        "response.create",
    ]
    session = realtime_out(out)[0]["session"]
    assert session["instructions"] == "Habla español."
    assert [t["name"] for t in session["tools"]] == ["end_call"]
    assert "audio" not in session  # the voice stays
    assert h.state.persona.name == "Spanish"
    assert h.state.persona.voice == "marin"
    assert of_type(out, a.AssistantJoined) == [
        a.AssistantJoined(7, "Spanish", 0, handoff=True)
    ]
    (row,) = of_type(out, SaveTranscript)
    assert (row.tool_name, row.tool_status) == ("handoff", "ok")


def test_handoff_to_an_assistant_that_is_gone_tells_the_model() -> None:
    h = harness()
    h.rt(rt_call("handoff", {"assistant": "Spanish"}))
    out = h.state.on_handoff("call_1", None, h.now)
    assert "not available" in realtime_out(out)[0]["item"]["output"]
    assert h.state.persona.name == "Front desk"


def test_handoff_to_a_name_not_in_the_list_is_an_error() -> None:
    h = harness()
    out = h.rt(rt_call("handoff", {"assistant": "Klingon"}))
    assert of_type(out, a.LoadPersona) == []
    assert of_type(out, SaveTranscript)[0].tool_status == a.TOOL_ERROR


# -- keypad ------------------------------------------------------------------------


def test_a_mapped_digit_transfers_without_the_model() -> None:
    h = harness()
    out = h.tw(tw_dtmf("0"))
    assert "conversation.item.create" not in sent_types(out)
    assert ends(h) == [EndCall(a.TRANSFERRED, "", None, "keypad", "+15550002222")]


def test_a_mapped_digit_ends_the_call_with_the_goodbye() -> None:
    h = harness()
    out = h.tw(tw_dtmf("9"))
    (goodbye,) = realtime_out(out)
    assert "Thanks for calling, bye!" in goodbye["response"]["instructions"]
    speaks(h, "resp_g", "item_g")
    h.tw(tw_mark("item_g:100"))
    assert ends(h) == [EndCall(a.ASSISTANT_ENDED)]


def test_an_unmapped_digit_reaches_the_model_as_text() -> None:
    h = harness()
    (note,) = realtime_out(h.tw(tw_dtmf("5")))
    assert note["item"]["content"][0]["text"] == (
        "The caller pressed 5 on the phone keypad."
    )


# -- silence ---------------------------------------------------------------------


def silence_timers(actions: list[a.Action]) -> list[StartTimer]:
    return [t for t in of_type(actions, StartTimer) if t.name.startswith("silence")]


def test_silence_reprompts_once_then_hangs_up() -> None:
    h = Harness(tools_snapshot())
    h.ready()
    (first,) = silence_timers(h.log)
    assert first.delay_ms == 8000
    out = h.timer(first.name)
    (reprompt,) = realtime_out(out)
    assert reprompt["response"]["instructions"] == SAY_EXACTLY.format(
        message="Are you still there?"
    )
    before = len(h.log)
    speaks(h, "resp_r", "item_r")
    assert silence_timers(h.log[before:]) == []  # the assistant is speaking
    h.tw(tw_mark("item_r:100"))  # the reprompt played: the clock restarts
    (second,) = silence_timers(h.log[before:])
    assert second.delay_ms == 12_000  # 20 s of silence in all
    out = h.timer(second.name)
    (goodbye,) = realtime_out(out)
    assert "Thanks for calling, bye!" in goodbye["response"]["instructions"]
    speaks(h, "resp_g", "item_g")
    h.tw(tw_mark("item_g:100"))
    assert ends(h) == [EndCall(a.SILENCE_TIMEOUT)]


def test_a_stale_silence_timer_is_ignored_after_the_caller_speaks() -> None:
    h = Harness(tools_snapshot())
    h.ready()
    (first,) = silence_timers(h.log)
    h.rt(rt_speech_started("item_U1"))
    assert h.timer(first.name) == []
    before = len(h.log)
    h.rt(rt_speech_stopped("item_U1"))
    (fresh,) = silence_timers(h.log[before:])
    assert fresh.name != first.name
    assert h.timer(first.name) == []  # still stale
    assert realtime_out(h.timer(fresh.name))[0]["type"] == "response.create"


def test_the_caller_speaking_earns_a_new_reprompt() -> None:
    h = Harness(tools_snapshot())
    h.ready()
    h.timer(silence_timers(h.log)[0].name)
    assert h.state.silence.reprompted
    h.rt(rt_speech_started("item_U1"))
    assert not h.state.silence.reprompted


def test_silence_without_a_goodbye_uses_a_generic_one() -> None:
    h = Harness(
        tools_snapshot(
            end_call={"enabled": False},
            silence={"hang_up_after_seconds": 5},
        )
    )
    h.ready()
    (timer,) = silence_timers(h.log)
    assert timer.delay_ms == 5000
    (goodbye,) = realtime_out(h.timer(timer.name))
    assert goodbye["response"]["instructions"] == GENERIC_GOODBYE


def test_no_silence_clock_without_silence_settings() -> None:
    h = Harness(tools_snapshot(silence={})).ready()
    assert silence_timers(h.log) == []


# -- GPT-Live: the same rules through its delegation ---------------------------


def live_harness() -> LiveHarness:
    return LiveHarness(live_snapshot(tools=tools_snapshot()["tools"])).ready()


def test_gpt_live_answers_a_backend_call_and_continues_it() -> None:
    h = live_harness()
    assert of_type(h.lv(lv_tool_call("call_7", "lookup_order")), a.RunTool)
    out = h.state.on_tool_result("call_7", '{"status": "shipped"}', h.now)
    assert sent_types(out) == ["response.item.create", "response.create"]


def test_gpt_live_end_call_says_the_goodbye_as_an_instruction() -> None:
    h = live_harness()
    out = h.lv(lv_tool_call("call_8", "end_call"))
    types = sent_types(out)
    assert types == ["response.item.create", "session.instructions.append"]
    assert "Thanks for calling, bye!" in realtime_out(out)[1]["content"]


def test_the_silence_clock_waits_while_a_tool_runs() -> None:
    h = Harness(tools_snapshot())
    h.ready()
    (first,) = silence_timers(h.log)
    h.rt(rt_call("lookup_order", response_id="resp_2"))
    h.rt(rt_response_created("resp_2"))
    before = len(h.log)
    h.rt(rt_response_done("resp_2", items=()))
    assert silence_timers(h.log[before:]) == []  # the tool still runs
    assert h.timer(first.name) == []


def test_a_function_call_after_the_goodbye_began_is_ignored() -> None:
    h = harness()
    h.tw(tw_dtmf("9"))  # the keypad's goodbye
    assert h.rt(rt_call("lookup_order")) == []
