"""Who asked for which response, and the goodbye that ends a call politely.

Responses we request (greeting, goodbye, the answer after a tool) are told apart
from the model's own answers by order: the engine starts responses in the order
we requested them (an engine guarantee). A goodbye carries the ``EndCall`` it
leads to, so the same machinery ends a call at max duration or after a transfer
message. No engine types, no Django.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from calls.callstate.actions import EndCall

GREETING, GOODBYE, TOOL = "greeting", "goodbye", "tool"
REPROMPT = "reprompt"  # the silence reprompt


class GoodbyeStage(Enum):
    PENDING = "pending"  # waiting for the current answer to finish
    REQUESTED = "requested"  # asked for; not generated yet
    GENERATED = "generated"  # all its audio came; the call ends once it played


@dataclass(slots=True)
class Goodbye:
    """The last thing the assistant says, and how the call ends after it."""

    instructions: str
    end: EndCall
    stage: GoodbyeStage = GoodbyeStage.PENDING


class Responses:
    def __init__(self) -> None:
        self.active_response_id: str | None = None
        # Purposes of the requests we sent that have no response yet, oldest first.
        self.own_requests: deque[str] = deque()
        self.response_purpose: dict[str, str] = {}
        self.labeled: dict[str, str] = {}  # purpose -> response it was matched to
        self.goodbye: Goodbye | None = None

    @property
    def goodbye_stage(self) -> str:
        return self.goodbye.stage.value if self.goodbye else ""

    @property
    def saying_goodbye(self) -> bool:
        """The goodbye is on its way: the caller cannot barge in on it."""
        return self.goodbye is not None and self.goodbye.stage in (
            GoodbyeStage.REQUESTED,
            GoodbyeStage.GENERATED,
        )

    def requested(self, purpose: str) -> None:
        """We sent a request for a response with this purpose (also its tag)."""
        self.own_requests.append(purpose)

    def started(self, response_id: str) -> None:
        self.active_response_id = response_id
        if self.own_requests:
            purpose = self.own_requests.popleft()
            self.response_purpose[response_id] = purpose
            self.labeled[purpose] = response_id

    def is_ours(self, response_id: str) -> bool:
        return response_id in self.response_purpose

    def purpose(self, response_id: str) -> str:
        return self.response_purpose.get(response_id, "")

    def done(self, response_id: str) -> None:
        if self.active_response_id in (response_id, ""):
            self.active_response_id = None

    def refused(self, tag: str) -> None:
        """Our request tagged ``tag`` was refused: no response of ours will come.

        If a response was already matched to it, that response was the model's
        own one, started while our request was in flight: unlabel it. A refused
        goodbye is retried after the active response.
        """
        if tag in self.own_requests:
            self.own_requests.remove(tag)
        elif tag in self.labeled:
            self.response_purpose.pop(self.labeled.pop(tag), None)
        if (
            tag == GOODBYE
            and self.goodbye is not None
            and self.goodbye.stage is GoodbyeStage.REQUESTED
        ):
            self.goodbye.stage = GoodbyeStage.PENDING
