"""Undo/redo for every edit, without Qt.

Each edit is a :class:`Command` with ``do`` and ``undo`` callables. The stack records
whether the document is clean (saved) so the GUI can mark unsaved changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class Command:
    text: str
    do: Callable[[], None]
    undo: Callable[[], None]


class UndoStack:
    def __init__(self, limit: int = 1000) -> None:
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._clean_index: int | None = 0
        self.limit = limit
        self.listeners: list[Callable[[], None]] = []

    def push(self, command: Command) -> None:
        """Run ``command`` and record it (clears the redo history)."""
        command.do()
        self._done.append(command)
        self._undone.clear()
        if self._clean_index is not None and self._clean_index > len(self._done) - 1:
            self._clean_index = None  # the saved state can no longer be reached
        if len(self._done) > self.limit:
            self._done.pop(0)
            if self._clean_index is not None:
                self._clean_index -= 1
                if self._clean_index < 0:
                    self._clean_index = None
        self._changed()

    def undo(self) -> Command | None:
        if not self._done:
            return None
        command = self._done.pop()
        command.undo()
        self._undone.append(command)
        self._changed()
        return command

    def redo(self) -> Command | None:
        if not self._undone:
            return None
        command = self._undone.pop()
        command.do()
        self._done.append(command)
        self._changed()
        return command

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def set_clean(self) -> None:
        self._clean_index = len(self._done)
        self._changed()

    def is_clean(self) -> bool:
        return self._clean_index == len(self._done)

    def set_unsaved(self) -> None:
        """The document differs from any saved state that undo or redo can reach (e.g.
        work recovered after a crash): not clean until the next :meth:`set_clean`."""
        self._clean_index = None
        self._changed()

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self._clean_index = 0
        self._changed()

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()
