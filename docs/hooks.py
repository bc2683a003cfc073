"""MkDocs hooks for the dotstack docs (``hooks:`` in ``mkdocs.yml``).

- **Sources for mkdocstrings.**  The import package ``dotstack`` maps its subpackages to
  top-level folders (``setup.py``'s ``ROOTS``: ``dotstack.drivers`` lives in ``drivers/``).
  griffe reads sources from folders, so the hook copies the sources into a temporary tree laid
  out as Python imports the package and points the Python handler's ``paths`` at it.  The
  mapping is read from ``setup.py`` (one source of truth), whatever kind of install is present.
- **Notebooks.**  ``examples/*.ipynb`` are added to the site as ``examples/<name>.ipynb``, for
  mkdocs-jupyter to render (without executing them: the test suite executes them).
- **Sphinx roles.**  Some docstrings write ``:class:`X``` and ``example::``; the rendered pages
  show `X` and ``example:``.
- **CLI reference.**  A page holding ``<!-- dotstack-cli -->`` gets the reference of every
  ``dotstack`` command, generated from the Typer app (``typer.main.get_command``): usage, help,
  arguments and options as ``--help`` shows them; ``<!-- dotstack-experiments -->`` gets each
  experiment of ``dotstack run`` with its parameters, as ``dotstack run NAME --help`` lists them.
"""

from __future__ import annotations

import ast
import atexit
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[1]
#: Sphinx roles some docstrings use (``:class:`X```): rendered as plain code spans
SPHINX_ROLE = re.compile(r":(?:class|func|meth|attr|mod|exc|obj|data):(?=<code>)")
#: a reST literal-block marker (``text::`` before an indented block) at a paragraph's end
SPHINX_LITERAL = re.compile(r"(?<=[^:\s]):(?=:</p>)")
CLI_MARKER = "<!-- dotstack-cli -->"
EXPERIMENTS_MARKER = "<!-- dotstack-experiments -->"
NOTEBOOKS = "Notebooks"  # the nav section that lists every example notebook


def package_roots(setup_py: Path) -> dict[str, str]:
    """``ROOTS`` of ``setup.py`` (import package -> folder), read without running the file."""
    tree = ast.parse(setup_py.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "ROOTS" for t in node.targets
        ):
            roots = ast.literal_eval(node.value)
            if isinstance(roots, dict) and all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in roots.items()):
                return dict(roots)
    raise RuntimeError(f"{setup_py}: no ROOTS = {{package: folder}} mapping found")


def copy_tree(root: Path, roots: dict[str, str], into: Path) -> None:
    """Copy the Python sources of ``roots`` under ``into``, laid out as Python imports them.

    Each package's folder is copied (``*.py`` files and subfolders) to its import path; a
    mapped subpackage (``dotstack.drivers`` from ``drivers/``) replaces what its parent's folder
    may hold under that name.  (Copies, not links: griffe resolves links to the folder they
    point into and would look for the mapped subpackages there.)
    """
    keep = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in sorted(roots, key=lambda p: p.count(".")):
        folder = root / roots[package]
        if not (folder / "__init__.py").is_file():
            raise RuntimeError(f"{package}: {folder} is not a package folder")
        target = into.joinpath(*package.split("."))
        if not target.parent.is_dir():
            raise RuntimeError(f"{package}: its parent package is not in ROOTS")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder, target, ignore=keep)


@event_priority(100)  # before mkdocstrings creates its handlers (in its own on_config)
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    tmp = Path(tempfile.mkdtemp(prefix="dotstack-docs-src-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    copy_tree(ROOT, package_roots(ROOT / "setup.py"), tmp)
    handlers = config.plugins["mkdocstrings"].config["handlers"]
    handlers.setdefault("python", {})["paths"] = [str(tmp)]
    _list_notebooks(config.nav or [])
    return config


def _list_notebooks(nav: list[Any]) -> None:
    """Append every ``examples/*.ipynb`` not yet in the nav to its ``Notebooks`` section."""
    for item in nav:
        if isinstance(item, dict):
            for title, value in item.items():
                if title == NOTEBOOKS and isinstance(value, list):
                    listed = {v if isinstance(v, str) else next(iter(v.values())) for v in value}
                    value.extend(f"examples/{nb.name}" for nb in notebooks()
                                 if f"examples/{nb.name}" not in listed)
                elif isinstance(value, list):
                    _list_notebooks(value)


def notebooks() -> list[Path]:
    """The example notebooks, by name."""
    return sorted((ROOT / "examples").glob("*.ipynb"))


@event_priority(100)  # before mkdocs-jupyter wraps the notebooks
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for notebook in notebooks():
        files.append(File(f"examples/{notebook.name}", src_dir=str(notebook.parent.parent),
                          dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if CLI_MARKER not in markdown and EXPERIMENTS_MARKER not in markdown:
        return markdown
    import typer

    from dotstack.cli import app

    command = typer.main.get_command(app)
    markdown = markdown.replace(CLI_MARKER, cli_reference(command, "dotstack"))
    return markdown.replace(EXPERIMENTS_MARKER, experiments_reference())


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Drop the Sphinx role prefix of ``:class:`X``` in rendered docstrings (keep `X`), and
    the second colon of a reST literal-block marker (``example::`` -> ``example:``)."""
    return SPHINX_LITERAL.sub("", SPHINX_ROLE.sub("", html))


def experiments_reference() -> str:
    """Markdown: each experiment ``dotstack run`` knows, with its parameters as
    ``dotstack run NAME --help`` lists them (from the signature and the docstring)."""
    from dotstack.cli_run import experiments, parameter_table

    parts = []
    for name in experiments():
        parts += [f"### `dotstack run {name}`", "", "```text", parameter_table(name), "```", ""]
    return "\n".join(parts)


def cli_reference(command: Any, path: str, level: int = 2) -> str:
    """Markdown reference of a click ``command`` (Typer's own click copy or click's: duck typed)
    and, for a group, of each subcommand (depth first)."""
    ctx = type(command).context_class(command, info_name=path.split()[-1])
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    lines = [f"{'#' * level} `{path}`", ""]
    if command.help:
        lines += [_plain(command.help), ""]
    lines += ["```text", usage, "```", ""]
    rows = [_param_row(p, ctx) for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    if rows:
        lines += ["| name | kind | description |", "|---|---|---|", *rows, ""]
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                lines.append(cli_reference(sub, f"{path} {name}", min(level + 1, 4)))
    return "\n".join(lines)


def _param_row(param: Any, ctx: Any) -> str:
    """One table row: the names and metavar, and the help with its default, as ``--help``
    shows them (``get_help_record``: the same in click and Typer's copy of it)."""
    record = param.get_help_record(ctx)
    if record is None:  # click's arguments have none
        record = (param.human_readable_name, getattr(param, "help", None) or "")
    names, help_text = record
    kind = "argument" if param.param_type_name == "argument" else "option"
    if kind == "option" and getattr(param, "multiple", False) and "repeat" not in help_text:
        help_text += " (repeatable)"
    return f"| `{names}` | {kind} | {_plain(help_text)} |"


def _plain(text: str) -> str:
    """Help text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")
