"""Twilio's protocols, pure: Media Streams frames, stream tokens, identifiers,
TwiML, the body limit of its webhooks and the redaction of stream tokens in logs.

Nothing here imports Django. What needs the project's settings sits in two
sub-packages above: ``account`` (request signatures and the REST API, which read
the Twilio account's settings) and ``webhooks`` (the Django views Twilio calls).
"""
