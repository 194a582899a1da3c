"""secreview's core, in rooms. Each package's docstring says what lives there and what it may import.

Imports run one way: handlers → bot.slack → bot.figures → bot.review → bot.intake → bot.common → storage
(bot.intake uses nothing else of bot/);
bot.run may use every room and no room uses it; bot.cli, bot.config, bot.demo and bot.preflight (what
`secreview check` looks at) are the entry points at the top
(see docs/architecture.md; the contracts are in pyproject.toml's [tool.importlinter], which
tests/unit/test_architecture.py runs).
"""
