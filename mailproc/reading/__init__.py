"""What a report says: its language (`detect`, `langprofiles`), its labelled fields,
links and people (`extract`, `labels`, `people`), and the reporter's requests and situation
(`cues`, `cues_situation`). Pure: text in, facts out.

May import: model, config.
"""
