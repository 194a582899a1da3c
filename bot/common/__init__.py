"""What every room shares: the words (templates/ rendered to Block Kit and text, escaped for mrkdwn, Slack's
limits), the ids that rendered payloads give their buttons and fields, and the business-day calendar.

May import: the standard library, jinja2, babel (number formats) and the `templates` package. Nothing else of
bot/, nor storage.
"""
