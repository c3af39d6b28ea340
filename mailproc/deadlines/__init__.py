"""The clocks of a case (`clocks`), what falls due when (`due`), and what the
scheduled mails say (`contexts`). Pure: `now` is an argument.

May import: model, config, mail.
"""
