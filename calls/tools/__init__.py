"""Webhook tools: the functions an assistant's model calls on the business's system.

``runner.WebhookTools`` runs a model's ``RunTool`` for one call; ``webhooks``
makes the signed HTTP request (Standard Webhooks) and turns any answer or failure
into a ``ToolResult``. A verifying endpoint for trying tools out is the dev-tools
app's (``manage.py tool_echo_server``). No Django in here.
"""
