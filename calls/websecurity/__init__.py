"""Checks on where a request comes from, shared by Twilio's media streams and the
staff live socket: the Host header against ``ALLOWED_HOSTS`` (``hosts``) and a
WebSocket's Origin against this site's (``origin``)."""
