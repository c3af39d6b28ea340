"""What a report says: its language (`detect`, `langprofiles`), its labelled fields, links and
people (`extract`, `labels`, `people`), the reporter's requests and situation (`cues`,
`cues_situation`), and her answer to the escrow question (`consent`). Pure: text in, facts out.

May import: model, config.
"""
