"""Similarity across a cohort of graded submissions: `python -m grader.similarity REPORT_DIR...`.

The starter code (the exercise) is discounted; each pair and each submission against the reference solution
is ranked, with its shared fragments side by side, and flagged "review suggested" at or above
`REVIEW_THRESHOLD`. Never a verdict: similar code is a question for the interview, not an answer.
"""

from grader.similarity._core import REVIEW_THRESHOLD, Pair, cohort, read_python
from grader.similarity._render import html_section, markdown_section, page
from grader.similarity._reports import CODE_DIR, similarity_of_reports

__all__ = [
    "CODE_DIR",
    "REVIEW_THRESHOLD",
    "Pair",
    "cohort",
    "html_section",
    "markdown_section",
    "page",
    "read_python",
    "similarity_of_reports",
]
