"""Every user-visible word comes from templates/: no sentence written into a call that shows text to someone.

The calls that put words in front of a user (the terminal, Slack, a settings error) must get their text from the
catalogue (templates/messages*.toml through bot/common/render.py) or a template, never a literal or an f-string
that holds a sentence. A sentence here is two or more words of letters with a space somewhere: "nothing sent",
"database: {x}; code: {y}". Identifiers ("cli.no_reviews"), format strings ("{}: {}") and variable names
("JIRA_PAT") are not sentences.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("bot", "handlers")

# The calls whose text a user reads: click's output and failures (and the CLI's own Failure classes), settings
# errors, a process's exit message, the lines of `secreview check`, and Slack's ways of answering.
USER_FACING_CALLS = frozenset({
    "echo", "secho", "UsageError", "ClickException", "BadParameter", "Failure", "ConfigFailure",
    "SettingsError", "SystemExit", "Finding", "JiraCheckFailed",
    "respond", "say", "chat_postMessage", "chat_postEphemeral", "chat_update",
})
# A validator's ValueError under bot/config/ becomes a settings error line, word for word.
VALIDATOR_ERRORS = {"ValueError": "bot/config/"}
# The catalogue's own lookups: their first argument is a key, and a nested lookup is how words should arrive.
LOOKUPS = frozenset({"message", "raw_message", "has_message", "render_text", "render_json", "invalid"})

# Literal text that is data, not a sentence: (file, the literal) -> why it may stay in code. Empty today: the
# formats, JSON and CSV the CLI prints hold no two words, and every sentence is in the catalogue.
ALLOWED: dict[tuple[str, str], str] = {}

_WORD = re.compile(r"[^\W\d_]{2,}")
_PLACEHOLDER = "\x00"


@dataclass(frozen=True)
class Sentence:
    """A sentence written into a user-facing call."""

    path: str
    line: int
    call: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.call}(…{self.text!r}…): take it from templates/messages*.toml"


def is_sentence(text: str) -> bool:
    """Two or more words of letters and a space: words a user reads, not a key, a name or a format."""
    return len(_WORD.findall(text)) >= 2 and any(c.isspace() for c in text)


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _literals(node: ast.AST) -> list[str]:
    """The literal text in an argument: strings, and f-strings' fixed parts with a gap where a value goes."""
    found: list[str] = []

    def visit(item: ast.AST) -> None:
        if isinstance(item, ast.Call) and _call_name(item) in LOOKUPS:
            return  # words from the catalogue, however they are combined
        if isinstance(item, ast.JoinedStr):
            # The fixed parts with a gap for each value, so "{a} {b}" is no sentence and words never merge.
            found.append("".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str)
                                 else _PLACEHOLDER for v in item.values))
            for value in item.values:
                if isinstance(value, ast.FormattedValue):
                    visit(value.value)
            return
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            found.append(item.value)
            return
        for child in ast.iter_child_nodes(item):
            visit(child)

    visit(node)
    return found


def sentences_in(source: str, path: str) -> list[Sentence]:
    """Every sentence written into a user-facing call of this module's source."""
    checked = USER_FACING_CALLS | {name for name, folder in VALIDATOR_ERRORS.items() if path.startswith(folder)}
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or (name := _call_name(node)) not in checked:
            continue
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            for text in _literals(argument):
                if is_sentence(text) and (path, text) not in ALLOWED:
                    found.append(Sentence(path, node.lineno, name, text.replace(_PLACEHOLDER, "{…}")))
    return found


def _modules() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_sentence_is_written_in_code(module: Path) -> None:
    path = module.relative_to(ROOT).as_posix()
    found = sentences_in(module.read_text(encoding="utf-8"), path)
    assert not found, "\n".join(map(str, found))


def test_every_allowed_literal_is_still_there_and_has_a_reason() -> None:
    """The allow-list does not outlive the code it excuses, and says why each literal is data."""
    for (path, text), reason in ALLOWED.items():
        assert reason.strip(), f"{path}: {text!r} is allowed without a reason"
        assert text in (ROOT / path).read_text(encoding="utf-8"), f"{path} no longer holds {text!r}: drop it"


@pytest.mark.parametrize("source", [
    'click.echo(f"wrote {n} files")',
    'click.echo("the digest was already posted")',
    'raise Failure(f"database: {a}; code: {b}")',
    'raise SettingsError("SLACK_BOT_TOKEN: " + "Slack refused it")',
    'raise click.UsageError("choose one " f"of {names}")',
    'respond(text=f"Review {key} is closed")',
    'client.chat_postMessage(channel=c, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Hi there"}}])',
    'raise SystemExit(f"cannot start: {reason}")',
    'click.echo(raw_message("cli.wrote", path=p) + " and more words")',
])
def test_a_sentence_in_code_is_caught(source: str) -> None:
    assert sentences_in(source, "bot/example.py"), source


def test_a_validator_sentence_is_caught_in_bot_config_only() -> None:
    source = 'raise ValueError(f"{value!r} is not a Jira label")'
    assert sentences_in(source, "bot/config/example.py")
    assert not sentences_in(source, "bot/review/example.py")  # an internal error, not shown as a settings line


@pytest.mark.parametrize("source", [
    'click.echo(raw_message("cli.no_reviews"))',
    'raise Failure(raw_message("cli.several_workspaces", ids=", ".join(ids)))',
    'click.echo(f"{a}: {b}")',
    'click.echo(json.dumps({"text": nothing, "blocks": []}, indent=2))',
    'raise JiraCheckFailed(raw_message("check.jira_refused", credentials="JIRA_USER/JIRA_API_TOKEN", reason=r))',
    'raise SettingsError(problem_line("slack_bot_token", raw_message("settings.start.token_no_team")))',
    'log.info("the bot token belongs to workspace %s", team)',  # operators' log lines are not checked
])
def test_words_from_the_catalogue_pass(source: str) -> None:
    assert not sentences_in(source, "bot/example.py"), source
