"""Every durable fact: the data directory's files (`files`), the case store with one
atomic commit per batch (`store`), its in-memory indexes (`indexes`, `snapshot`), the
revocation list of removed members (`revocation`), a person erased from the files
(`erasure`) and a case as a zip (`export`). Encryption at rest: the cipher and keys
(`sealing`, used by `files`), what a directory records of its key (`keyrecord`), unlocking it
at start and changing its key (`encryption`).

May import: model, config.
"""
