"""What the committee reports about itself: figures computed from the cases' diaries and SLA
records (`figures`), the public transparency report with small-cell suppression and the leak
guard (`transparency`, rendered by `render_md` and `render_html`), and charts (`charts`,
matplotlib's Agg backend, imported only when drawing). Pure: `now` is an argument; charts
come back as PNG bytes, the command line writes files.

May import: model, config, cases (for the leak guard), deadlines.
"""
