"""Hypercorn settings the command line cannot set (``hypercorn -c python:<this>``).

Hypercorn's WebSocket message cap is only settable in a config; it is set to the
other servers' cap (``calls.ops.servers.WS_MAX_MESSAGE_BYTES``) so that all of
them refuse the same frames.
"""

from calls.ops.servers import WS_MAX_MESSAGE_BYTES

websocket_max_message_size = WS_MAX_MESSAGE_BYTES
