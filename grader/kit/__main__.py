"""`python -m grader.kit build ...`"""

from grader.kit.build import main

raise SystemExit(main())
