"""The persona's tools value: the snapshot round trip, and damaged rows."""

from __future__ import annotations

from calls.vocabulary.persona import Persona
from calls.vocabulary.tools import (
    EndCallTool,
    HandoffTarget,
    KeypadAction,
    Silence,
    Tools,
    TransferTarget,
    WebhookTool,
)

FRONT_DESK = Tools(
    end_call=EndCallTool(True, "Thanks for calling, goodbye."),
    transfer=(
        TransferTarget(
            "reception", "+15557770000", "A person.", "Let me put you through."
        ),
    ),
    handoff=(HandoffTarget("Billing", "Invoices.", 7),),
    keypad=(
        ("0", KeypadAction(transfer="reception")),
        ("9", KeypadAction(end_call=True)),
    ),
    silence=Silence(8, 20, "Are you still there?"),
    webhooks=(
        WebhookTool(
            "lookup_order",
            "Look up an order.",
            "https://erp.example.com/voice/lookup-order",
            {"type": "object", "properties": {"order_id": {"type": "string"}}},
            5,
            "One moment.",
        ),
    ),
)


def test_it_round_trips_through_the_call_snapshot() -> None:
    persona = Persona(name="Front desk", tools=FRONT_DESK, redact=("card_number",))
    back = Persona.from_snapshot(persona.to_snapshot())
    assert back == persona
    assert back.tools.keypad_action("0") == KeypadAction(transfer="reception")
    assert back.tools.handoff_target("Billing").assistant_id == 7  # type: ignore[union-attr]


def test_it_writes_the_assistants_json_tools_shape() -> None:
    data = FRONT_DESK.to_data()
    assert data["keypad"] == {"0": {"transfer": "reception"}, "9": {"end_call": True}}
    assert data["handoff"] == [{"assistant": "Billing", "description": "Invoices."}]
    assert set(data) == {
        "end_call", "transfer", "handoff", "keypad", "silence", "webhooks"
    }  # fmt: skip
    assert Tools.from_data(data).webhooks == FRONT_DESK.webhooks


def test_it_reads_damaged_tool_data_as_no_tools_without_raising() -> None:
    damaged = {
        "end_call": "yes",
        "transfer": [{"name": "x"}, 3, {"name": "desk", "number": "+15550000001"}],
        "keypad": {"1": {"transfer": 5}, "2": "end"},
        "silence": {"reprompt_after_seconds": "8"},
        "webhooks": None,
    }
    tools = Tools.from_data(damaged)
    assert not tools.end_call.enabled
    assert [t.name for t in tools.transfer] == ["desk"]
    assert tools.keypad == ()
    assert tools.silence.reprompt_after_seconds is None
    assert Persona.from_snapshot({"tools": 12}).tools == Tools()
    assert not Tools().any and FRONT_DESK.any
