"""The call-path benchmark: `make bench`, `python -m calls.tooling.bench`
(docs/performance.md says what it measures and how).

``__main__`` runs the scenarios and prints the table; ``server`` starts the server
processes and the Realtime stand-ins; ``loadgen`` (with ``calls``, ``wsclient``,
``wsframes``) is the simulated Twilio callers' process; ``echo`` the lean echo
stand-in; ``floor`` the least-work relay measured beside the project and
``baseline`` another bridge started from a command; ``procstat`` reads CPU and
memory from ``/proc``; ``stats``, ``split`` (steady state and set-up apart, ratios),
``report`` and ``versus`` turn runs into figures; ``firstreply`` measures a
conversation's first reply. No Django: the project runs in the server subprocesses.
"""

from __future__ import annotations
