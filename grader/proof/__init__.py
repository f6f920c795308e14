"""The grader's proof: submissions with known verdicts that `make validate` grades (see traps.py)."""
