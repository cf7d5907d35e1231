"""Parts of RESULTS.md that a benchmark owns between two marker lines: taken out before a
run and put back (unchanged, or replaced when that benchmark ran)."""

from __future__ import annotations


def extract(text: str, begin: str, end: str) -> tuple[str, str]:
    """(``text`` without the part between ``begin`` and ``end``, that part with its
    markers, or "" when there is none)."""
    before, marker, rest = text.partition(begin)
    if not marker:
        return text, ""
    block, end_marker, after = rest.partition(end)
    return (before.rstrip() + "\n" + after.lstrip("\n")).rstrip() + "\n", \
        marker + block + end_marker + "\n"


def merge(text: str, block: str) -> str:
    """``text`` with ``block`` appended after a blank line (``text`` as it is when there
    is no block)."""
    return text.rstrip() + "\n\n" + block.strip() + "\n" if block else text
