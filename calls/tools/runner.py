"""An assistant's webhook tools for one call: ``await tools(run_tool) -> ToolResult``.

Built from the persona's ``Tools.webhooks`` and the secrets the call runner loads
from the database by tool name (they are never in the persona or the snapshot).
The model's arguments are a JSON string: anything but a JSON object, like a name
no tool has or a tool without a secret, becomes an error output the model can
apologise for, not an exception, so a confused model cannot break a call.

Pure module: no Django.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import aiohttp
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match

from calls.callstate.actions import TOOL_ERROR, RunTool, ToolResult
from calls.egress.addresses import Destinations
from calls.tools.webhooks import WebhookCall, call_webhook, error_output
from calls.vocabulary.tools import WebhookTool

logger = logging.getLogger(__name__)

Poster = Callable[..., Awaitable[ToolResult]]


class WebhookTools:
    def __init__(
        self,
        webhooks: Iterable[WebhookTool],
        secrets: Mapping[str, str],
        *,
        call_sid: str,
        assistant: str,
        caller_number: str,
        session: aiohttp.ClientSession | None = None,
        post: Poster = call_webhook,
        destinations: Destinations | None = None,
    ) -> None:
        self.tools = {tool.name: tool for tool in webhooks}
        # One validator per tool, built once per call (schemas were checked when
        # the assistant was saved).
        self._validators = {
            tool.name: Draft202012Validator(tool.parameters)
            for tool in self.tools.values()
            if tool.parameters and _valid_schema(tool.name, tool.parameters)
        }
        self._secrets = dict(secrets)
        self.call_sid = call_sid
        self.assistant = assistant
        self.caller_number = caller_number
        self._session = session
        self._post = post
        self._destinations = destinations or Destinations()

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.tools)

    def __repr__(self) -> str:
        # Secrets stay out of reprs (and so out of tracebacks and logs).
        return f"WebhookTools({sorted(self.tools)}, call_sid={self.call_sid!r})"

    async def __call__(self, call: RunTool) -> ToolResult:
        tool = self.tools.get(call.name)
        if tool is None:
            logger.info("webhook tool %s: unknown tool", call.name)
            return ToolResult(error_output(f"there is no tool {call.name}"), TOOL_ERROR)
        arguments = parse_arguments(call.arguments)
        if arguments is None:
            logger.info("webhook tool %s: arguments are not a JSON object", call.name)
            return ToolResult(
                error_output(
                    f"the arguments for {call.name} must be a JSON object; "
                    "call it again with valid arguments"
                ),
                TOOL_ERROR,
            )
        problem = self._arguments_problem(tool.name, arguments)
        if problem:
            # The path only: the values are the caller's words.
            logger.info("webhook tool %s: arguments do not match its schema", call.name)
            return ToolResult(
                error_output(
                    f"the arguments for {call.name} do not match its parameters "
                    f"({problem}); call it again with valid arguments"
                ),
                TOOL_ERROR,
            )
        secret = self._secrets.get(tool.name, "")
        request = WebhookCall(
            url=tool.url,
            secret=secret,
            tool=tool.name,
            arguments=arguments,
            call_sid=self.call_sid,
            assistant=self.assistant,
            caller_number=self.caller_number,
            timeout_seconds=tool.timeout_seconds,
            destinations=self._destinations,
        )
        return await self._post(request, session=self._session)

    def _arguments_problem(self, name: str, arguments: dict[str, Any]) -> str:
        """What is wrong with the model's arguments for tool ``name`` ("" if
        nothing): the most relevant schema error, where it is and why."""
        validator = self._validators.get(name)
        if validator is None:
            return ""
        error = best_match(validator.iter_errors(arguments))
        if error is None:
            return ""
        where = "/".join(str(part) for part in error.absolute_path) or "the object"
        return f"at {where}: {error.message}"


def _valid_schema(name: str, schema: dict[str, Any]) -> bool:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        # Saved before schemas were checked: the tool runs unchecked, as then.
        logger.warning("webhook tool %s: its parameters are not a valid schema", name)
        return False
    return True


def parse_arguments(text: str) -> dict[str, Any] | None:
    """The model's arguments as an object (``""`` is ``{}``), or None if not one."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
