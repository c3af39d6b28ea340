"""The clocks of a case (`clocks`), what falls due when (`due`), who hears about it (`ladder`),
what the scheduled mails say (`contexts`, `wording`, `digest`), and moments typed on the
command line (`moment`). Pure: `now` is an argument.

May import: model, config, mail.
"""
