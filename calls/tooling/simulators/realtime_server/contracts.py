"""What a simulated response and the conversation it speaks in need of each other.

``ResponseRun`` (``responses``) and ``usage_for`` (``usage``) work on any
``ResponseHost``; ``Conversation`` is one without naming either, and remembers its
responses only as ``AudioItem``. With these protocols here, neither side imports the
other's module, so ``conversation``, ``items``, ``responses`` and ``usage`` form no
import cycle, not even one for type checking.
"""

from __future__ import annotations

from typing import Any, Protocol

from calls.tooling.simulators.realtime_server.config import SimulatorConfig
from calls.tooling.simulators.realtime_server.records import ConnectionRecord


class AudioItem(Protocol):
    """An assistant audio item, as truncation and usage see it."""

    @property
    def audio_ms(self) -> int:
        """Audio generated (sent) so far."""
        ...

    @property
    def transcript(self) -> str:
        """The words sent so far."""
        ...


class ResponseHost(Protocol):
    """The session a response streams into (``Conversation`` in the simulator)."""

    config: SimulatorConfig
    record: ConnectionRecord
    session: dict[str, Any]
    conversation_id: str
    last_item_id: str | None
    # Assistant audio items by item id, for truncation and usage.
    items: dict[str, AudioItem]
    input_audio_ms: int
    cached_tokens: int

    @property
    def output_format(self) -> str: ...

    async def send(self, event: dict[str, Any]) -> None: ...

    async def sleep_ms(self, ms: float) -> None: ...

    def response_finished(self, run: AudioItem) -> None: ...
