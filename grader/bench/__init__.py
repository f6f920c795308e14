"""`make bench`: the solution against the stack's floors and the exercise; the grader against wrk."""
