"""The candidate's NOTES.md, rendered so that nothing in it can act: no HTML, no script, no remote content."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

NOTES_NAMES = ("NOTES.md", "notes.md", "NOTES.txt", "NOTES")
MAX_BYTES = 64 * 1024

# CommonMark with raw HTML off (it is shown as text), and images and links off: their targets would be
# fetched or followed from the reviewer's browser. The URLs stay readable as plain text.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable(["image", "link", "autolink"])


def read_notes(root: Path) -> tuple[str | None, bool]:
    """(the notes' text or None, whether it was cut at MAX_BYTES)."""
    for name in NOTES_NAMES:
        path = root / name
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            return data[:MAX_BYTES].decode(errors="replace"), len(data) > MAX_BYTES
    return None, False


def notes_html(text: str) -> str:
    """HTML of the notes: every tag the author wrote arrives escaped."""
    html: str = _MARKDOWN.render(text)
    return html
