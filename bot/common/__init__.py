"""What every room shares: the words (templates/ rendered to Block Kit and text, escaped for mrkdwn, Slack's
limits), the ids that rendered payloads give their buttons and fields, the working-day calendar (public
holidays and closing days), and the invisible characters removed from user text before it reaches Slack.

May import: the standard library, jinja2, `holidays`, babel (number formats) and the `templates` package.
Nothing else of bot/, nor storage.
"""
