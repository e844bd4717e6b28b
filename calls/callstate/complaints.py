"""Bad input and repeated warnings, logged without letting a peer flood the log.

Each warning class is logged at its level the first ``LOUD`` times per call,
then at DEBUG. No Django.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

LOUD = 5


class Complaints:
    def __init__(self, call_sid: str) -> None:
        self.call_sid = call_sid
        self.bad_frames = 0
        self.warnings: dict[str, int] = {}  # per warning class

    def warn(
        self, kind: str, message: str, *args: object, level: int = logging.WARNING
    ) -> None:
        count = self.warnings[kind] = self.warnings.get(kind, 0) + 1
        logger.log(level if count <= LOUD else logging.DEBUG, message, *args)

    def bad_input(self, side: str, reason: str) -> None:
        """A frame or message that could not be used: counted, and ignored."""
        self.bad_frames += 1
        level = logging.WARNING if self.bad_frames <= LOUD else logging.DEBUG
        logger.log(
            level,
            "call %s: ignored bad %s input #%d: %s",
            self.call_sid,
            side,
            self.bad_frames,
            reason,
        )
