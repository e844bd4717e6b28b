"""Who asked for which response.

Responses we request (greeting, goodbye, the answer after a tool, a reprompt,
a slow tool's filler)
are told apart from the model's own answers by order: the engine starts
responses in the order we requested them (an engine guarantee). No engine types,
no Django.
"""

from __future__ import annotations

from collections import deque

from calls.callstate.actions import Action

GREETING, GOODBYE, TOOL = "greeting", "goodbye", "tool"
REPROMPT = "reprompt"  # the silence reprompt
FILLER = "filler"  # a slow webhook tool's filler


class Responses:
    def __init__(self) -> None:
        self.active_response_id: str | None = None
        # Purposes of the requests we sent that have no response yet, oldest first.
        self.own_requests: deque[str] = deque()
        self.response_purpose: dict[str, str] = {}
        self.labeled: dict[str, str] = {}  # purpose -> response it was matched to

    @property
    def active(self) -> bool:
        return self.active_response_id is not None

    @property
    def busy(self) -> bool:
        """A response is active, or one we asked for has not started."""
        return self.active_response_id is not None or bool(self.own_requests)

    def requested(self, purpose: str) -> None:
        """We sent a request for a response with this purpose (also its tag)."""
        self.own_requests.append(purpose)

    def started(self, response_id: str) -> list[Action]:
        """A response started: ours (the oldest request open) or the model's."""
        self.active_response_id = response_id
        if self.own_requests:
            purpose = self.own_requests.popleft()
            self.response_purpose[response_id] = purpose
            self.labeled[purpose] = response_id
        return []

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
        own one, started while our request was in flight: unlabel it.
        """
        if tag in self.own_requests:
            self.own_requests.remove(tag)
        elif tag in self.labeled:
            self.response_purpose.pop(self.labeled.pop(tag), None)
