"""Twilio: Media Streams frames, webhook signatures, TwiML, webhooks, stream tokens
and the REST API. Everything the product says to or hears from Twilio is here."""
