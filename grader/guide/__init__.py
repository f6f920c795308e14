"""The reviewer's guide: NOTES.md rendered safely, the git history in numbers, questions per bug tied to the
evidence, where each fix is, what the notes claim against what was measured, and why cases failed."""

from grader.guide._core import build_guide, interview
from grader.guide._history import history
from grader.guide._notes import read_notes
from grader.guide._render import guide_markdown, html_section, markdown

__all__ = ["build_guide", "guide_markdown", "history", "html_section", "interview", "markdown", "read_notes"]
