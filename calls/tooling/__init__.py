"""Tools that ship beside the product but are not part of a call: the Realtime and
Twilio simulators and the benchmark. Nothing under ``calls`` outside this package
imports from it (the management commands that run the tools excepted)."""
