"""The running daemon, wiring adapters to the core: the application object (`app`),
one batch gathered, decided and committed (`pipeline`, `batch`, `reports`, `memberflow`), the
reading done before the store is consulted and the process that does it on a second core
(`prepare`, `reader`), the asyncio loop (`daemon`), the deadline tick (`scheduled`), and
looking after it all (`supervisor`, `health`, `alerts`, `notify`, `logsetup`), trying
every outside part for `mailproc check --connect` (`probe`), and the data's life cycle
(`retention_job`, `erasure`, `quarantine`).

May import: every wing except cli.
"""
