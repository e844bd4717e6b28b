"""The assistant admin's add form as a browser posts it, for the admin tests."""

from __future__ import annotations

from typing import Any

ADD_URL = "/admin/assistants/assistant/add/"


def inlines(
    prefix: str, rows: list[dict[str, str]], initial: int = 0
) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def assistant_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "Sales",
        "instructions": "Sell.",
        "unavailable_message": "Sorry.",
        "voice": "marin",
        "model": "gpt-realtime-2.1",
        "temperature": "0.8",
        "transcription_model": "",
        "turn_detection": "server_vad",
        "vad_threshold": "0.5",
        "vad_prefix_padding_ms": "300",
        "vad_silence_duration_ms": "500",
        "vad_eagerness": "auto",
        "max_call_duration_seconds": "600",
        "is_active": "on",
        "keypad": '{"0": {"transfer": "reception"}, "9": {"end_call": true}}',
        "end_call_enabled": "on",
        "end_call_goodbye": "Goodbye.",
        "silence_reprompt_after_seconds": "8",
        "silence_hang_up_after_seconds": "20",
        "silence_reprompt": "Still there?",
        "recording_retention_days": "30",
        "redact": ["card_number", "email"],
        **inlines("phone_numbers", []),
        **inlines(
            "transfer_destinations",
            [
                {
                    "name": "reception",
                    "number": "+15557770000",
                    "description": "The front desk.",
                    "message": "Putting you through.",
                }
            ],
        ),
        **inlines("handoff_routes", []),
        **inlines(
            "webhook_tools",
            [
                {
                    "name": "lookup_order",
                    "description": "Look up an order.",
                    "url": "https://erp.example.com/lookup",
                    "parameters": '{"type": "object", "properties": '
                    '{"order_id": {"type": "string"}}}',
                    "timeout_seconds": "5",
                    "filler": "One moment.",
                }
            ],
        ),
    }
    form.update(changes)
    return form
