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
# Under these folders an exception's text reaches a user word for word: a validator's ValueError becomes a
# settings error line ("SECREVIEW_CONFIG: calendar.closed[1]: ..."), an intake answer's shows under the field.
# So every exception built there is checked (ValueError, QuestionnaireError, ...: a name ending in Error or
# Exception), and so are the calls that collect a questionnaire's mistakes for its QuestionnaireError
# (fail, _mistake, and errors.append: the list it is built from).
WORDED_ERROR_FOLDERS = ("bot/config/", "bot/intake/", "bot/common/")
MISTAKE_CALLS = frozenset({"fail", "_mistake"})
MISTAKE_LISTS = frozenset({"errors"})
# The catalogue's own lookups: their first argument is a key, and a nested lookup is how words should arrive.
LOOKUPS = frozenset({"message", "raw_message", "has_message", "render_text", "render_json", "invalid",
                     "config_error"})

# Literal text that is data or for developers, not a sentence a user reads: (file, the literal as a Sentence
# shows it, {…} where a value goes) -> why it may stay in code.
ALLOWED: dict[tuple[str, str], str] = {
    ("bot/common/render.py", "template {…}.json.j2 rendered invalid JSON: {…}\n{…}"):
        "a template that renders broken JSON is a bug in secreview: its tests and logs report it to developers, "
        "and a user is only ever told that something went wrong (error.unexpected)",
}

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


def is_checked(node: ast.Call, path: str) -> bool:
    """Whether a call's text reaches a user: a user-facing call anywhere, an exception where errors are read."""
    name = _call_name(node)
    if name in USER_FACING_CALLS:
        return True
    if not path.startswith(WORDED_ERROR_FOLDERS) or name is None:
        return False
    if name == "append" and isinstance(node.func, ast.Attribute):
        target = node.func.value
        return (target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)) in MISTAKE_LISTS
    return name.endswith(("Error", "Exception")) or name in MISTAKE_CALLS


def sentences_in(source: str, path: str, allowed: dict[tuple[str, str], str] = ALLOWED) -> list[Sentence]:
    """Every sentence written into a user-facing call of this module's source, but those `allowed`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not is_checked(node, path):
            continue
        name = _call_name(node)
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            for text in _literals(argument):
                shown = text.replace(_PLACEHOLDER, "{…}")
                if is_sentence(text) and (path, shown) not in allowed:
                    found.append(Sentence(path, node.lineno, name or "", shown))
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
        written = sentences_in((ROOT / path).read_text(encoding="utf-8"), path, allowed={})
        assert text in {s.text for s in written}, f"{path} no longer holds {text!r}: drop it"


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


@pytest.mark.parametrize("folder", ["bot/config", "bot/intake", "bot/common"])
def test_a_validator_sentence_is_caught_where_errors_are_read(folder: str) -> None:
    source = 'raise ValueError(f"{value!r} is not a Jira label")'
    assert sentences_in(source, f"{folder}/example.py")
    assert not sentences_in(source, "bot/review/example.py")  # an internal error, not shown as a settings line


@pytest.mark.parametrize("source", [
    'raise ValueError(f"{key}: the range {item!r} ends before it starts")',
    'raise QuestionnaireError([f"{where}: expected a table, got {_show(data)}"])',
    'raise TypeError("expected a table here")',
    'raise CalendarException("no such country")',
    'self.fail(key, f"at most {limit} characters, got {len(value)}")',
    'errors.append(_mistake(where, "choices", f"the value {v!r} is used twice"))',
    'errors.append(f"{where}remove: {name!r} is not a shipped question")',
    'self.errors.append(f"{self.where}: {key}: expected text")',
    'raise config_error("day", key=key) from ValueError("a reason in code")',
])
def test_any_exception_built_with_a_sentence_is_caught_in_bot_intake_and_bot_common(source: str) -> None:
    assert sentences_in(source, "bot/intake/example.py"), source
    assert sentences_in(source, "bot/common/example.py"), source


@pytest.mark.parametrize("source", [
    'raise config_error("range_backwards", key=key, value=repr(item))',
    'raise QuestionnaireError([_mistake(where.rstrip("."), "", "not_table", value=_show(data))])',
    'self.fail(key, "too_long", limit=limit, length=len(value))',
    'raise ValueError(name) from None',
    'errors.append(_mistake(f"{where}remove", "", "remove_unknown", question=repr(name)))',
    'words.append("two words")',  # a list that is not a questionnaire's mistakes
    'raise ValueError(raw_message(f"answer.invalid.{key}", question=question.id, **params))',
])
def test_exceptions_worded_from_the_catalogue_pass(source: str) -> None:
    assert not sentences_in(source, "bot/intake/example.py"), source


# The helpers that take a catalogue entry's name, and the section it is in ({} the call's own prefix).
_KEYED_CALLS = {"config_error": "config.invalid.", "_wrong": "answer.invalid.", "_mistake": "config.questionnaire.",
                "fail": "config.questionnaire.", "invalid": "settings.invalid."}


def test_every_entry_an_error_names_is_in_the_catalogue() -> None:
    """A mistake on a path no test walks still has its words: each name given to a keyed helper exists."""
    from bot.common.render import has_message

    missing = []
    for module in _modules():
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or (prefix := _KEYED_CALLS.get(_call_name(node) or "")) is None:
                continue
            # config_error/_wrong/invalid name the entry first; _mistake and fail after where and the key.
            index = 2 if _call_name(node) == "_mistake" else 1 if _call_name(node) == "fail" else 0
            names = [node.args[index]] if len(node.args) > index else []
            if names and isinstance(names[0], ast.IfExp):
                names = [names[0].body, names[0].orelse]
            for name in names:
                if isinstance(name, ast.Constant) and not has_message(prefix + str(name.value)):
                    missing.append(f"{module.relative_to(ROOT)}:{node.lineno}: {prefix}{name.value}")
    assert not missing, "\n".join(missing)


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
