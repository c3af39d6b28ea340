"""The format of mail, both ways, with no sockets and no clock: parsing raw bytes (`parse`,
`charsets`, `headerfields`, `htmltext`), machine mail seen from the headers (`machine`, which
reads a body only when the headers make a bounce plausible: `bounces`), the new text of a reply
(`replytext`, `replymarkers`), who really sent it (`authentication`), and writing our own
(`templates`, `plaintext`, `compose`, `scrub`).

May import: model, config.
"""
