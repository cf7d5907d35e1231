from heritage.undo import Command, UndoStack


def test_undo_redo_and_clean_state():
    items: list[int] = []
    stack = UndoStack()
    seen = []
    stack.listeners.append(lambda: seen.append(len(items)))
    for i in range(3):
        stack.push(Command(f"add {i}", lambda i=i: items.append(i), items.pop))
    assert items == [0, 1, 2] and stack.undo_text() == "add 2"
    stack.set_clean()
    assert stack.is_clean()
    stack.undo()
    assert items == [0, 1] and not stack.is_clean() and stack.redo_text() == "add 2"
    stack.redo()
    assert items == [0, 1, 2] and stack.is_clean()
    stack.undo()
    stack.push(Command("add 9", lambda: items.append(9), items.pop))
    assert items == [0, 1, 9] and not stack.can_redo()
    assert not stack.is_clean()  # the saved state is gone for good
    while stack.undo():
        pass
    assert items == [] and seen


def test_limit_drops_oldest():
    stack = UndoStack(limit=2)
    items = []
    for i in range(4):
        stack.push(Command("x", lambda i=i: items.append(i), items.pop))
    assert stack.undo() and stack.undo() and stack.undo() is None
    assert items == [0, 1]
