"""The pure core: one message plus what was gathered and the current state in, a `Decision`
(new state, diary, mail to send) out. Intake of reports (`intake`), the reporter's later mail
(`followups`), threading and routing (`workflow`, `routing`), committee mail (`committee`,
`commands`, `commandparse`, `motions`), identities (`identity`, `codenames`), off-boarding
(`offboarding`), our own mail bouncing (`bounces`), the guard for public text (`leaks`) and
the data policy (`retention`).
No I/O and no clock: `now` comes in through `workflow.Context`.

May import: model, config, mail, reading, triage, deadlines.
"""
