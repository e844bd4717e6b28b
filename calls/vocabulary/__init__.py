"""The words every layer shares: the bottom of the layer map. Standard library only.

- ``persona``: the frozen ``Persona`` a call runs with (and its snapshot schema).
- ``tools``: what an assistant can do besides talk (``Tools`` and its parts).
- ``end_reasons``: why a call ended, stored values and their labels.
- ``outcomes``: what a call came to, derived from its end reason and status.
- ``usage``: the usage counters every call carries.

Nothing here knows an engine, Django or a socket, so the engines, the call state
and the Django apps can all import it without importing each other.
"""
