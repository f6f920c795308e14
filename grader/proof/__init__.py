"""The grader's proof: submissions whose verdicts are known (mutants, alternative fixes, traps), graded by
`make validate`."""
