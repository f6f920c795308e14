"""The grader's proof run (`make validate`): the detection matrix, its repeats and their time budget."""
