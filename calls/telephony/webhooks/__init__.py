"""Twilio's webhooks as Django views (``views``), with the pages and URL confs at
the top of the layers."""
