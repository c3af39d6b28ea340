"""The `mailproc` console script: for `run`, the reader process is forked before the rest of
mailproc is imported (`mailproc.prepworker.fork_early`); then the command line runs."""

from __future__ import annotations

import sys


def main() -> int:
    from mailproc.prepworker import fork_early

    fork_early(sys.argv[1:])
    from mailproc.cli import main as cli_main

    return cli_main()
