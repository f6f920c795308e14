"""`python -m grader.validate ...`"""

import sys

from grader.validate.matrix import main

raise SystemExit(main(sys.argv[1:]))
