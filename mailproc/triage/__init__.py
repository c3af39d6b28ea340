"""Where a message that is not a report goes: the rules file (`rules`, `conditions`),
their evaluation (`evaluate`, with `negation` for `unless_negated`) and the routing guard
that keeps reports from being routed away (`guard`). Pure once the rules are loaded.

May import: model, config, mail, reading.
"""
