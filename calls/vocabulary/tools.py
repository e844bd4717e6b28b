"""An assistant's tools as a call sees them: one frozen value, in the JSON shape.

``Tools`` is what ``Persona.tools`` holds and what the call snapshot stores. Its
``to_data`` is the ``"tools"`` object of the assistants JSON (without webhook
secrets, which never leave the database: the call runner loads them by tool
name), and ``from_data`` reads it back, tolerant of damaged rows like the rest of
the snapshot (a call log must open whatever is stored): anything ill-typed is
dropped. Checking a document strictly, naming entry and field, is the
assistants app's job (``assistants.config``), not this module's.

Standard library only, so the engines and the call state can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The built-in functions' names, as the model sees them.
END_CALL = "end_call"
TRANSFER_CALL = "transfer_call"
HANDOFF = "handoff"
BUILT_IN_NAMES = frozenset({END_CALL, TRANSFER_CALL, HANDOFF})


@dataclass(frozen=True, slots=True)
class EndCallTool:
    enabled: bool = False
    goodbye: str = ""


@dataclass(frozen=True, slots=True)
class TransferTarget:
    name: str
    number: str
    description: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class HandoffTarget:
    assistant: str  # the other assistant's name
    description: str = ""
    assistant_id: int | None = None


@dataclass(frozen=True, slots=True)
class KeypadAction:
    """What a keypad digit does: transfer to a named destination, or end the call."""

    transfer: str = ""
    end_call: bool = False


@dataclass(frozen=True, slots=True)
class Silence:
    reprompt_after_seconds: int | None = None
    hang_up_after_seconds: int | None = None
    reprompt: str = ""


@dataclass(frozen=True, slots=True)
class WebhookTool:
    name: str
    description: str
    url: str
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: int = 5
    filler: str = ""


@dataclass(frozen=True, slots=True)
class Tools:
    end_call: EndCallTool = EndCallTool()
    transfer: tuple[TransferTarget, ...] = ()
    handoff: tuple[HandoffTarget, ...] = ()
    keypad: tuple[tuple[str, KeypadAction], ...] = ()  # (digit, action), sorted
    silence: Silence = Silence()
    webhooks: tuple[WebhookTool, ...] = ()

    @property
    def any(self) -> bool:
        """Whether the model gets any function at all."""
        return bool(
            self.end_call.enabled or self.transfer or self.handoff or self.webhooks
        )

    def keypad_action(self, digit: str) -> KeypadAction | None:
        for key, action in self.keypad:
            if key == digit:
                return action
        return None

    def transfer_target(self, name: str) -> TransferTarget | None:
        return next((t for t in self.transfer if t.name == name), None)

    def handoff_target(self, assistant: str) -> HandoffTarget | None:
        return next((h for h in self.handoff if h.assistant == assistant), None)

    def webhook(self, name: str) -> WebhookTool | None:
        return next((w for w in self.webhooks if w.name == name), None)

    def to_data(self) -> dict[str, Any]:
        """The assistants JSON's ``"tools"`` object (no secrets)."""
        keypad: dict[str, Any] = {}
        for digit, action in self.keypad:
            keypad[digit] = (
                {"transfer": action.transfer} if action.transfer else {"end_call": True}
            )
        return {
            "end_call": {
                "enabled": self.end_call.enabled,
                "goodbye": self.end_call.goodbye,
            },
            "transfer": [
                {
                    "name": t.name,
                    "number": t.number,
                    "description": t.description,
                    "message": t.message,
                }
                for t in self.transfer
            ],
            "handoff": [
                {"assistant": h.assistant, "description": h.description}
                for h in self.handoff
            ],
            "keypad": keypad,
            "silence": {
                "reprompt_after_seconds": self.silence.reprompt_after_seconds,
                "hang_up_after_seconds": self.silence.hang_up_after_seconds,
                "reprompt": self.silence.reprompt,
            },
            "webhooks": [
                {
                    "name": w.name,
                    "description": w.description,
                    "url": w.url,
                    "parameters": w.parameters,
                    "timeout_seconds": w.timeout_seconds,
                    "filler": w.filler,
                }
                for w in self.webhooks
            ],
        }

    def to_snapshot(self) -> dict[str, Any]:
        """``to_data`` plus what a call needs that the JSON names differently."""
        data = self.to_data()
        for item, target in zip(data["handoff"], self.handoff, strict=True):
            item["assistant_id"] = target.assistant_id
        return data

    @classmethod
    def from_data(cls, data: Any) -> Tools:
        """Read ``to_data``/``to_snapshot`` output back; never raises."""
        if not isinstance(data, dict):
            return cls()
        end = _dict(data.get("end_call"))
        silence = _dict(data.get("silence"))
        keypad: list[tuple[str, KeypadAction]] = []
        for digit, raw in _dict(data.get("keypad")).items():
            action = _dict(raw)
            if isinstance(action.get("transfer"), str) and action["transfer"]:
                keypad.append((str(digit), KeypadAction(transfer=action["transfer"])))
            elif action.get("end_call") is True:
                keypad.append((str(digit), KeypadAction(end_call=True)))
        return cls(
            end_call=EndCallTool(
                enabled=end.get("enabled") is True, goodbye=_str(end.get("goodbye"))
            ),
            transfer=tuple(
                TransferTarget(
                    name=_str(t.get("name")),
                    number=_str(t.get("number")),
                    description=_str(t.get("description")),
                    message=_str(t.get("message")),
                )
                for t in _dicts(data.get("transfer"))
                if t.get("name") and t.get("number")
            ),
            handoff=tuple(
                HandoffTarget(
                    assistant=_str(h.get("assistant")),
                    description=_str(h.get("description")),
                    assistant_id=_int(h.get("assistant_id")),
                )
                for h in _dicts(data.get("handoff"))
                if h.get("assistant")
            ),
            keypad=tuple(sorted(keypad)),
            silence=Silence(
                reprompt_after_seconds=_int(silence.get("reprompt_after_seconds")),
                hang_up_after_seconds=_int(silence.get("hang_up_after_seconds")),
                reprompt=_str(silence.get("reprompt")),
            ),
            webhooks=tuple(
                WebhookTool(
                    name=_str(w.get("name")),
                    description=_str(w.get("description")),
                    url=_str(w.get("url")),
                    parameters=_dict(w.get("parameters")),
                    timeout_seconds=_int(w.get("timeout_seconds")) or 5,
                    filler=_str(w.get("filler")),
                )
                for w in _dicts(data.get("webhooks"))
                if w.get("name") and w.get("url")
            ),
        )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


NO_TOOLS = Tools()
