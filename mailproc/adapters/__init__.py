"""The world outside, behind small interfaces: mailbox sources (`mailbox`,
`maildir`, `imap` with `imapauth`, `imapcopies`, `oauth`; `sources` picks one), outgoing
mail (`delivery`, `smtp`, `outbox`), machine translation (`translators`, `translation`), and
what a failed connection means in an admin's words, with the TLS context (`netfail`).

May import: model, config, reading, store.
"""
