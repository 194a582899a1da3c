"""Running secreview: `secreview run` (Socket Mode), `serve` (HTTP mode) and `work` (its worker process), the
work queue between them, the outbox delivery, the inbox replay, the scheduler, leases and claims.

May import: every room of bot/ (bot.slack and below) and storage. No room imports bot.run; handlers/ reach
here only through bot/cli.py, which hands them in.
"""
