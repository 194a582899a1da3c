"""The figures: metric definitions computed in SQL over a period's window as of its end, the digest, the
reminders, the trend chart and the export.

May import: bot.review, bot.intake, bot.common, bot.config, storage. Never Slack's Bolt, bot.slack, bot.run.
"""
