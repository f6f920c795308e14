"""`python -m grader.compare ...`"""

from grader.compare.cli import main

raise SystemExit(main())
