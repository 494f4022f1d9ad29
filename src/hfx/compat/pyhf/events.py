"""pyhf's event hooks (``pyhf.events``): named callbacks that scripts subscribe to.

hfx itself triggers no events (its models never change backend under a user's feet), but
scripts and plug-ins written for pyhf subscribe and trigger their own, so the registry
exists with pyhf's names.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import wraps
from typing import Any

__all__ = ["Callables", "disable", "enable", "noop", "register", "subscribe", "trigger"]

# pyhf's event registry is process-wide by contract; tests clear these two by name.
__events: dict[str, Callables] = {}
__disabled_events: set[str] = set()


def noop(*args: Any, **kwargs: Any) -> None:
    """A callback that does nothing (what a disabled event triggers)."""


class Callables:
    """The callbacks of one event, held weakly (a bound method dies with its object)."""

    def __init__(self) -> None:
        self._callbacks: list[tuple[Any, Any]] = []

    @property
    def callbacks(self) -> list[tuple[Any, Any]]:
        self._flush()
        return self._callbacks

    def append(self, callback: Callable[..., Any]) -> None:
        owner = getattr(callback, "__self__", None)
        function = getattr(callback, "__func__", callback)
        self._callbacks.append(
            (weakref.ref(function), None if owner is None else weakref.ref(owner))
        )

    def _flush(self) -> None:
        self._callbacks = [
            (func, owner)
            for func, owner in self._callbacks
            if func() is not None and (owner is None or owner() is not None)
        ]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.callbacks[index]

    def __iter__(self) -> Any:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        for func, owner in list(self._callbacks):
            target = func()
            if target is None:
                continue
            if owner is None:
                target(*args, **kwargs)
            elif (instance := owner()) is not None:
                target(instance, *args, **kwargs)
        self._flush()

    def __repr__(self) -> str:
        return f"Callables({self.callbacks!r})"


def subscribe(event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: call the function (or bound method) whenever ``event`` is triggered."""

    def add(callback: Callable[..., Any]) -> Callable[..., Any]:
        __events.setdefault(event, Callables()).append(callback)
        return callback

    return add


def trigger(event: str) -> Callable[..., Any]:
    """The callable that runs every live callback of ``event`` (a no-op when disabled)."""
    if event in __disabled_events:
        return noop
    return __events.get(event, noop)


def disable(event: str) -> None:
    """Make ``trigger(event)`` a no-op until :func:`enable`."""
    __disabled_events.add(event)


def enable(event: str) -> None:
    """Undo :func:`disable`."""
    __disabled_events.discard(event)


def register(event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: trigger ``event::before`` and ``event::after`` around each call."""

    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            trigger(f"{event}::before")()
            result = function(*args, **kwargs)
            trigger(f"{event}::after")()
            return result

        return call

    return wrap
