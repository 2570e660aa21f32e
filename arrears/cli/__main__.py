"""`python -m arrears.cli`: the `arrears` command without its console script."""

import sys

from arrears.cli import main

sys.exit(main())
