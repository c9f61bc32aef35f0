"""The documentation cannot drift from the code: every recipe snippet parses against the recipe model (and
matches the shipped file it names), every `skuflow` command line parses against the CLI's own parser, every
`curl` names a route and method the server serves with a body that is JSON, and the README's command
cheat-sheet and the getting-started walk-through run, in order, on small data."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from skuflow.cli.main import app
from skuflow.settings import get_settings
from skuflow.tasks.base import get_task
from skuflow.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
RECIPE_KEYS = set(TrainConfig.model_fields)
# commands that start a long-running server or need a service the suite provides elsewhere: parsed, not run
NOT_RUN = {("serve",): "a server", ("up",): "a server", ("dashboard",): "a server", ("flow", "serve"): "a scheduler",
           ("flow", "run"): "a Prefect server (tests/e2e/test_flows.py runs it)",
           ("retrain",): "a Prefect flow (tests/e2e/test_closed_loop.py runs it)",
           ("drift", "report"): "logged traffic (tests/e2e/test_cli.py runs it)",
           ("data", "ingest"): "an S3 bucket (tests/integration/test_remote_stack.py runs it)",
           ("tune",): "a Dask cluster and an Optuna study (tests/integration/test_tuning.py runs them)"}
SMALL = {"--rows": 1500}  # the walk-through runs on small data


def _blocks(lang: str) -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for m in re.finditer(rf"```{lang}\n(.*?)```", page.read_text(), re.S):
            found.append((page.relative_to(ROOT).as_posix(), m.group(1)))
    return found


def _commands(text: str, program: str) -> list[list[str]]:
    """Each command line of a shell snippet, continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0].rsplit("/", 1)[-1] == program:
            out.append(words[1:])
    return out


def _parse(args: list[str]) -> tuple[str, ...]:
    """Parse a command line with the CLI's own parser (unknown options, missing arguments and bad values
    raise); return the command's path."""
    cmd = typer.main.get_command(app)
    words, path = list(args), []
    while hasattr(cmd, "commands"):
        assert words and words[0] in cmd.commands, f"skuflow {' '.join(args)}: no such command"
        path.append(words.pop(0))
        cmd = cmd.commands[path[-1]]
    cmd.make_context(" ".join(["skuflow", *path]), words)
    return tuple(path)


def test_recipe_snippets_parse_and_match_the_shipped_recipes():
    recipes = [(page, yaml.safe_load(text)) for page, text in _blocks("yaml")]
    recipes = [(page, r, text) for (page, r), (_, text) in zip(recipes, _blocks("yaml"), strict=True)
               if isinstance(r, dict) and set(r) <= RECIPE_KEYS]
    assert len(recipes) >= 5
    for page, raw, text in recipes:
        config = TrainConfig.model_validate(raw)
        task = get_task(config.task or "category")
        unknown = set(config.data.options()) - set(task.data_options)
        assert not unknown, f"{page}: data options {unknown} are not the {task.name} task's"
        named = re.match(r"#\s*(configs/\S+\.yaml)", text)
        if named:  # a snippet naming a shipped recipe shows it as it is (or a part of it)
            shipped = yaml.safe_load((ROOT / named.group(1)).read_text())
            for key, value in raw.items():
                if isinstance(value, dict):
                    for sub, v in value.items():
                        # a key the file leaves out may be shown empty, to name it
                        same = shipped[key].get(sub) == v or (sub not in shipped[key] and not v)
                        assert same, f"{page}: {key}.{sub} differs from {named.group(1)}"
                else:
                    assert shipped[key] == value, f"{page}: {key} differs from {named.group(1)}"


def test_every_cli_snippet_parses():
    lines = [(page, words) for page, text in _blocks("bash") for words in _commands(text, "skuflow")]
    assert len(lines) >= 30
    for page, words in lines:
        try:
            _parse(words)
        except Exception as exc:  # the parser's usage errors, with the page that holds the line
            pytest.fail(f"{page}: skuflow {' '.join(words)}: {exc}")


def _openapi_routes() -> list[tuple[str, re.Pattern[str]]]:
    from skuflow.serving.app import create_app

    spec = create_app(get_settings()).openapi()
    return [(method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"))
            for path, ops in spec["paths"].items() for method in ops]


def test_every_curl_snippet_names_a_served_route(tmp_path, monkeypatch):
    monkeypatch.setenv("SKUFLOW_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    routes = _openapi_routes()
    get_settings.cache_clear()
    calls = [(page, words) for page, text in _blocks("bash") for words in _commands(text, "curl")]
    assert len(calls) >= 8
    for page, words in calls:
        method = words[words.index("-X") + 1] if "-X" in words else ("POST" if "-F" in words or "-d" in words
                                                                     else "GET")
        url = next(w for w in words if w.startswith("http://"))
        path = re.sub(r"^http://[^/]+", "", url).split("?")[0]
        assert any(m == method and pattern.match(path) for m, pattern in routes), f"{page}: {method} {path}"
        if "-d" in words:
            json.loads(words[words.index("-d") + 1])


def _small(words: list[str]) -> list[str]:
    out = list(words)
    for i, w in enumerate(out[:-1]):
        if w in SMALL:
            out[i + 1] = str(min(int(out[i + 1]), SMALL[w]))
    return out


@pytest.mark.slow
def test_the_cheat_sheet_and_the_walk_through_run_on_small_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKUFLOW_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    readme = (ROOT / "README.md").read_text()
    sheet = re.search(r"## Command cheat-sheet\n\n```bash\n(.*?)```", readme, re.S).group(1)
    walk = re.search(r"## Next\n\n```bash\n(.*?)```", (ROOT / "docs/getting-started.md").read_text(), re.S).group(1)
    runner, ran = CliRunner(), []
    for words in [*_commands(sheet, "skuflow"), *_commands(walk, "skuflow")]:
        path = _parse(words)
        if path in NOT_RUN:
            continue
        result = runner.invoke(app, _small(words))
        assert result.exit_code == 0, f"skuflow {' '.join(words)}:\n{result.output}"
        ran.append(path)
    assert {("data", "generate"), ("train",), ("models", "promote"), ("models", "rollback"), ("batch",)} <= set(ran)
    assert (tmp_path / "scored").exists()
    get_settings.cache_clear()


def test_the_readme_links_to_pages_that_exist():
    links = re.findall(r"\]\(((?:docs/)[^)#\s]+)", (ROOT / "README.md").read_text())
    assert len(links) >= 15
    assert [link for link in links if not (ROOT / link).exists()] == []
