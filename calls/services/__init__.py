"""Database writes for calls: every change to a Call, its transcript or its
recording goes through one of these modules, each with one job.

- ``routing``: which assistant answers a number; the Call a voice webhook creates;
  who took the call (at its start, or by a handoff).
- ``lifecycle``: status callbacks, the stream's claim and start, its heartbeat, the
  end of the call, and the sweep of calls a dead process left open.
- ``transcript``: turns and tool rows, and their latency figures.
- ``usage``: the engine's usage counters.
- ``transfer``: staff control and transfers, the dial's outcome, and where the
  next stream of a reopened call starts.
- ``recordings``: a call's recording file and its row.
- ``erasure``: deleting recordings and transcripts (retention, a caller's request).

Synchronous functions with keyword-only arguments, one transaction each. Async
code (the media consumer) calls them through ``database_sync_to_async`` once per
event that matters (a turn, a usage report, the end of the call), never per audio
frame. Import each function from its module.
"""
