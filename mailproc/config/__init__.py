"""What admins edit: `rules/config.yaml` (`settings`), the consequence ladder
(`consequences`), and the YAML reader that gives every error its file and line (`yamlsource`).

May import: model.
"""
