"""The pure core: one message plus what was gathered and the current state in, a
`Decision` (new state, diary, mail to send) out. Intake of reports (`intake`), follow-ups and
routing (`workflow`, `routing`), committee mail (`committee`, `commands`, `commandparse`,
`motions`), identities (`identity`, `codenames`) and off-boarding (`offboarding`).
No I/O and no clock: `now` comes in through `workflow.Context`.

May import: model, config, mail, reading, triage, deadlines.
"""
