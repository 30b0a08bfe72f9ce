"""The `vibethinker-lsp` command line: serve, solve, tasks, judge, download, doctor."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import tempfile
from pathlib import Path

from lsp_server import __version__


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("vibethinker-lsp: interrupted.", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="vibethinker-lsp",
        description="A language server that turns VibeThinker-1.5B into a verified competitive-programming assistant.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the language server on stdio (or TCP)")
    serve.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (loopback by default)"
    )
    serve.set_defaults(run=run_serve)

    solve = sub.add_parser(
        "solve", help="implement the TODOs of a file, verify on its examples, print a diff"
    )
    solve.add_argument("file", type=Path)
    solve.add_argument("--line", type=int, help="only the task on this 1-based line")
    solve.add_argument("--write", action="store_true", help="write verified solutions into the file")
    solve.add_argument("--json", action="store_true", help="print JSON instead of diffs")
    _add_model_arguments(solve)
    solve.set_defaults(run=run_solve)

    tasks = sub.add_parser("tasks", help="list the tasks (TODO/FIXME/XXX) of a file with their examples")
    tasks.add_argument("file", type=Path)
    tasks.add_argument("--json", action="store_true")
    tasks.set_defaults(run=run_tasks)

    judge = sub.add_parser("judge", help="run a solution on NAME.in/NAME.out tests in the sandbox")
    _add_judge_arguments(judge)

    download = sub.add_parser("download", help="download model weights into the Hugging Face cache")
    download.add_argument(
        "model", nargs="?", default=None, help="Hugging Face id (default: the configured model)"
    )
    download.add_argument("--revision", default=None)
    download.set_defaults(run=run_download)

    doctor = sub.add_parser("doctor", help="show GPU, model cache, sandbox isolation and versions")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(run=run_doctor)
    return parser


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Model options shared by commands that generate."""
    parser.add_argument(
        "--backend", choices=("transformers", "openai"), default=os.environ.get("VIBETHINKER_BACKEND")
    )
    parser.add_argument(
        "--model", default=os.environ.get("VIBETHINKER_MODEL"), help="Hugging Face id or local folder"
    )
    parser.add_argument(
        "--base-url", default=os.environ.get("VIBETHINKER_BASE_URL"), help="OpenAI-compatible base URL"
    )
    parser.add_argument(
        "-n", "--candidates", type=int, default=None, help="candidates to generate (best-of-N)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--thinking-budget", type=int, default=None)
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--time-limit", type=float, default=None, help="seconds of CPU per example")
    parser.add_argument("--memory-limit", type=int, default=None, help="megabytes per example")


def _add_judge_arguments(parser: argparse.ArgumentParser) -> None:
    """Wire the judge subcommand to the sandbox's own argument handling."""
    from sandbox import cli as judge_cli

    judge_cli.add_judge_arguments(parser)
    parser.set_defaults(run=judge_cli.run_judge)


def settings_from_args(args: argparse.Namespace):
    """Settings for a command: defaults, then environment and command-line options; errors to stderr."""
    from lsp_server.settings import parse_settings

    model: dict = {}
    if args.backend:
        model["backend"] = args.backend
    if args.model:
        model["name"] = args.model
    if args.base_url:
        model["baseUrl"] = args.base_url
        model.setdefault("backend", "openai")
    generation = {
        key: value
        for key, value in {
            "candidates": args.candidates,
            "maxNewTokens": args.max_new_tokens,
            "thinkingBudget": args.thinking_budget,
            "temperature": args.temperature,
        }.items()
        if value is not None
    }
    judge = {
        k: v
        for k, v in {"timeLimit": args.time_limit, "memoryLimit": args.memory_limit}.items()
        if v is not None
    }
    settings, errors = parse_settings({"model": model, "generation": generation, "judge": judge})
    for error in errors:
        print(f"vibethinker-lsp: {error}", file=sys.stderr)
    return settings


def run_serve(args: argparse.Namespace) -> int:
    """Run the language server until the client exits."""
    from lsp_server.server import create_server

    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"vibethinker-lsp: --tcp wants HOST:PORT, not {args.tcp!r}.", file=sys.stderr)
            return 2
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0


def _read_source(path: Path) -> str | None:
    """Read a source file, or print one sentence and return None."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"vibethinker-lsp: {path} does not exist; give the path of a source file.", file=sys.stderr)
    except IsADirectoryError:
        print(f"vibethinker-lsp: {path} is a folder; give the path of a source file.", file=sys.stderr)
    except UnicodeDecodeError:
        print(f"vibethinker-lsp: {path} is not UTF-8 text.", file=sys.stderr)
    except OSError as exc:
        print(f"vibethinker-lsp: cannot read {path} ({exc.strerror}).", file=sys.stderr)
    return None


def _file_tasks(path: Path):
    """(text, language, tasks) of a file, or None after printing why."""
    from codegen.languages import language_for
    from codegen.tasks import extract_tasks

    text = _read_source(path)
    if text is None:
        return None
    language = language_for(path)
    if language is None:
        print(
            f"vibethinker-lsp: {path.name} is not a language we read (Python, C++, Java, Rust, Go, JS/TS).",
            file=sys.stderr,
        )
        return None
    return text, language, extract_tasks(text, language, path.resolve())


def run_tasks(args: argparse.Namespace) -> int:
    """List the tasks of a file."""
    found = _file_tasks(args.file)
    if found is None:
        return 2
    _, language, tasks = found
    if args.json:
        print(
            json.dumps(
                {"file": str(args.file), "language": language, "tasks": [t.to_json() for t in tasks]},
                indent=2,
            )
        )
        return 0
    if not tasks:
        print(f"{args.file}: no tasks (no TODO/FIXME/XXX comment in or above a function).")
    for task in tasks:
        where = task.function or "program"
        print(
            f"{args.file}:{task.line}: {task.kind.upper()} in {where} ({task.style}, {len(task.examples)} examples): {task.text}"
        )
        for example in task.examples:
            print(f"    {example.input!r} -> {example.output!r}")
    return 0


def run_solve(args: argparse.Namespace) -> int:
    """Generate, verify and print a diff for each task; with --write, write verified code atomically."""
    from codegen.backends.base import BackendError
    from codegen.edits import apply_edits
    from codegen.engine import Engine
    from codegen.pipeline import solve
    from sandbox import Judge

    found = _file_tasks(args.file)
    if found is None:
        return 2
    text, _language, tasks = found
    if args.line is not None:
        tasks = [t for t in tasks if t.line == args.line]
        if not tasks:
            print(
                f"vibethinker-lsp: no task on line {args.line} of {args.file}; run `vibethinker-lsp tasks {args.file}`.",
                file=sys.stderr,
            )
            return 2
    if not tasks:
        print(
            f"vibethinker-lsp: {args.file} has no tasks (no TODO/FIXME/XXX comment in or above a function).",
            file=sys.stderr,
        )
        return 1
    settings = settings_from_args(args)
    engine = Engine(settings.model_config(), on_status=_print_status)
    judge = Judge(settings.limits(), python=settings.judge.python or None)
    results, verified_edits = [], []
    try:
        for task in tasks:
            print(f"Solving {args.file}:{task.line} ({task.function or 'program'}) ...", file=sys.stderr)
            try:
                outcome = solve(
                    task,
                    engine,
                    judge,
                    settings.generation_params(),
                    limits=settings.limits(task),
                    system_prompt=settings.generation.system_prompt or None,
                    measure=settings.judge.measure_complexity,
                    on_progress=lambda message, _tokens: print(f"  {message}", file=sys.stderr, end="\r"),
                )
            except BackendError as exc:
                print(f"vibethinker-lsp: {exc}", file=sys.stderr)
                return 2
            edit = outcome.edit(allow_unverified=True)
            new_text = apply_edits(text, [edit]) if edit else text
            diff = "".join(
                difflib.unified_diff(
                    text.splitlines(keepends=True),
                    new_text.splitlines(keepends=True),
                    fromfile=f"a/{args.file}",
                    tofile=f"b/{args.file}",
                )
            )
            best = outcome.closest
            report = best.report if best else None
            results.append(
                {
                    "line": task.line,
                    "function": task.function,
                    "verdict": outcome.verdict,
                    "passed": report.passed if report else 0,
                    "total": report.total if report else len(task.examples),
                    "complexity": best.complexity if best else None,
                    "diff": diff,
                    "message": "" if outcome.winner else outcome.failure_text(),
                }
            )
            if outcome.winner:
                verified_edits.append(outcome.edit())
            print(file=sys.stderr)
    finally:
        engine.close()
    if args.json:
        print(json.dumps({"file": str(args.file), "results": results}, indent=2))
    else:
        for r in results:
            status = f"{r['verdict']} ({r['passed']}/{r['total']} examples)"
            print(
                f"# {args.file}:{r['line']} {r['function'] or 'program'}: {status}; complexity: {r['complexity'] or 'not stated'}"
            )
            if r["message"]:
                print(f"# {r['message']}")
            print(r["diff"])
    if args.write and verified_edits:
        try:
            write_atomically(args.file, apply_edits(text, _non_overlapping(verified_edits)))
        except OSError as exc:
            print(
                f"vibethinker-lsp: cannot write {args.file} ({exc.strerror or exc}); it is unchanged.",
                file=sys.stderr,
            )
            return 2
        print(f"Wrote {len(verified_edits)} verified solution(s) to {args.file}.", file=sys.stderr)
    elif args.write:
        print(f"Nothing verified; {args.file} is unchanged.", file=sys.stderr)
    return 0 if all(r["verdict"] == "AC" for r in results) else 1


def _non_overlapping(edits):
    """Drop edits that overlap an earlier one."""
    kept = []
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.column)):
        if kept and (edit.range.start.line, edit.range.start.column) < (
            kept[-1].range.end.line,
            kept[-1].range.end.column,
        ):
            continue
        kept.append(edit)
    return kept


def write_atomically(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same folder and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _print_status(state: str, detail: str) -> None:
    """Engine status lines on stderr."""
    if state in ("loading", "error"):
        print(f"model {state}: {detail}", file=sys.stderr)


def run_download(args: argparse.Namespace) -> int:
    """Download weights into the Hugging Face cache."""
    from codegen.backends.base import DEFAULT_MODEL, BackendError
    from codegen.download import download_model

    name = args.model or os.environ.get("VIBETHINKER_MODEL") or DEFAULT_MODEL
    try:
        path = download_model(name, revision=args.revision)
    except BackendError as exc:
        print(f"vibethinker-lsp: {exc}", file=sys.stderr)
        return 1
    print(f"{name} is in {path}")
    return 0


def run_doctor(args: argparse.Namespace) -> int:
    """Print what the machine offers: Python, torch and GPU, model cache, sandbox isolation, versions."""
    from lsp_server.doctor import collect

    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for section, values in report.items():
            print(f"{section}:")
            for key, value in values.items():
                print(f"  {key}: {value}")
    return 0
