"""Every durable fact: the data directory's files (`files`), the case store with one
atomic commit per batch (`store`), its in-memory indexes (`indexes`, `snapshot`), and the
revocation list of removed members (`revocation`).

May import: model, config.
"""
