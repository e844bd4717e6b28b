"""The openai SDK's GPT-Live event unions as validators (with pydantic's
discriminator), and a check for keys the SDK models accepted without knowing them:
GPT-Live rejects unknown fields. The SDK is a test-only dependency."""

from __future__ import annotations

import collections.abc
import json
import typing
from typing import Annotated, Any

from openai.types.live import ClientEvent, ClientEventParam, ServerEvent
from openai.types.responses import ResponseStreamEvent
from pydantic import BaseModel, Field, TypeAdapter


def tagged(union: Any) -> TypeAdapter[Any]:
    """The SDK's union with its PropertyInfo swapped for pydantic's discriminator."""
    members: Any = typing.get_args(union)[0]
    tagged_union: Any = Annotated[members, Field(discriminator="type")]
    return TypeAdapter(tagged_union)


ClientTA = tagged(ClientEvent)
ServerTA = tagged(ServerEvent)
ClientWireTA: TypeAdapter[Any] = TypeAdapter(
    Annotated[ClientEventParam, Field(discriminator="type")]
)
NestedTA = tagged(ResponseStreamEvent)


def extras(model: Any, path: str = "") -> list[str]:
    """Keys the SDK models accepted without knowing them (extra="allow")."""
    if isinstance(model, BaseModel):
        found = [f"{path}.{k}" for k in (model.model_extra or {})]
        for name in type(model).model_fields:
            found += extras(getattr(model, name), f"{path}.{name}")
        return found
    if isinstance(model, list | tuple):
        return [e for i, v in enumerate(model) for e in extras(v, f"{path}[{i}]")]
    if isinstance(model, dict):
        return [e for k, v in model.items() for e in extras(v, f"{path}.{k}")]
    return []


def force(value: Any) -> Any:
    """TypedDict Iterable fields validate lazily: walk them."""
    if isinstance(value, dict):
        return {k: force(v) for k, v in value.items()}
    if isinstance(value, list | tuple | collections.abc.Iterator):
        return [force(v) for v in value]
    return value


def check_client(text: str) -> str:
    data = json.loads(text)
    model = ClientTA.validate_python(data)
    force(ClientWireTA.validate_python(data))
    assert extras(model) == [], text
    return type(model).__name__


def check_server(text: str) -> str:
    data = json.loads(text)
    model = ServerTA.validate_python(data)
    bad = extras(model)
    if data["type"] == "response.event":
        bad += extras(NestedTA.validate_python(data["event"]), ".event")
    assert bad == [], text
    return type(model).__name__
