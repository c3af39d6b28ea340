"""`python -m mailproc.cli`: the `mailproc` command without the console script."""

import sys

from mailproc.cli.main import main

sys.exit(main())
