"""A tiny event emitter for the Qt-free scene model (napari-style, without Qt)."""

from __future__ import annotations

from typing import Any, Callable


class EventEmitter:
    """``connect(name, callback)``; ``emit(name, **kwargs)`` calls every callback."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[Callable[..., Any]]] = {}

    def connect(self, name: str, callback: Callable[..., Any]) -> None:
        self._callbacks.setdefault(name, []).append(callback)

    def disconnect(self, name: str, callback: Callable[..., Any]) -> None:
        cbs = self._callbacks.get(name, [])
        if callback in cbs:
            cbs.remove(callback)

    def emit(self, name: str, **kwargs: Any) -> None:
        for cb in list(self._callbacks.get(name, [])) + list(self._callbacks.get("*", [])):
            cb(event=name, **kwargs)
