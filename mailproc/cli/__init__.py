"""The `mailproc` command: the console script (`launch`), its subcommands (`main`), the
`triage` dry run (`dryrun`) and the first-start demo (`demo`).

May import: every wing.
"""
