"""The world outside, behind small interfaces: mailbox sources (`mailbox`,
`maildir`, `imap` with `imapauth`, `imapcopies`, `oauth`; `sources` picks one), outgoing
mail (`delivery`, `smtp`, `outbox`), and machine translation (`translators`, `translation`).

May import: model, config, reading, store.
"""
