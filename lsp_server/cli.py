"""The `vibethinker-lsp` command line: serve, solve, web, tasks, judge, stress, download, doctor."""

from __future__ import annotations

import argparse
import dataclasses
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
    _add_adapter_argument(serve)
    serve.set_defaults(run=run_serve)

    solve = sub.add_parser(
        "solve", help="implement the TODOs of a file, verify on its examples, print a diff"
    )
    solve.add_argument("file", type=Path)
    solve.add_argument("--line", type=int, help="only the task on this 1-based line")
    solve.add_argument("--write", action="store_true", help="write verified solutions into the file")
    solve.add_argument("--json", action="store_true", help="print JSON instead of diffs")
    solve.add_argument(
        "--record", type=Path, metavar="FILE", help="append each verified solution to FILE (chat JSONL)"
    )
    _add_verification_arguments(solve)
    _add_model_arguments(solve)
    solve.set_defaults(run=run_solve)

    web = sub.add_parser("web", help="serve the web playground: paste a problem, get verified code")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    web.add_argument("--port", type=int, default=7860)
    web.add_argument(
        "--auth",
        metavar="USER:PASSWORD",
        default=os.environ.get("VIBETHINKER_WEB_AUTH"),
        help="log-in the page asks for; required when --host is not loopback (or VIBETHINKER_WEB_AUTH)",
    )
    web.add_argument(
        "--companion",
        nargs="?",
        type=int,
        const=27121,
        default=None,
        metavar="PORT",
        help="put problems from Competitive Companion (loopback PORT, default 27121) in the Problem box",
    )
    _add_verification_arguments(web)
    _add_model_arguments(web)
    web.set_defaults(run=run_web)

    tasks = sub.add_parser("tasks", help="list the tasks (TODO/FIXME/XXX) of a file with their examples")
    tasks.add_argument("file", type=Path)
    tasks.add_argument("--json", action="store_true")
    tasks.set_defaults(run=run_tasks)

    judge = sub.add_parser("judge", help="run a solution on NAME.in/NAME.out tests in the sandbox")
    _add_judge_arguments(judge)

    stress = sub.add_parser("stress", help="stress-test a solution against a brute force on generated inputs")
    _add_stress_arguments(stress)

    download = sub.add_parser("download", help="download model weights into the Hugging Face cache")
    download.add_argument(
        "model",
        nargs="?",
        default=None,
        help="Hugging Face id, e.g. WeiboAI/VibeThinker-3B, or a short name: VibeThinker-1.5B, VibeThinker-3B "
        "(default: the configured model)",
    )
    download.add_argument("--revision", default=None)
    download.set_defaults(run=run_download)

    doctor = sub.add_parser(
        "doctor", help="show GPU and which model it holds, model cache, sandbox isolation and versions"
    )
    doctor.add_argument("--json", action="store_true")
    _add_model_arguments(doctor)
    doctor.set_defaults(run=run_doctor)

    finetune = sub.add_parser("finetune", help="train a LoRA adapter on chat JSONL (e.g. solve --record)")
    _add_finetune_arguments(finetune)
    return parser


def _add_verification_arguments(parser: argparse.ArgumentParser) -> None:
    """The `verification.*` settings for one run (stress tests after the examples)."""
    parser.add_argument(
        "--stress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stress-test candidates that pass the examples (verification.stress; default on)",
    )
    parser.add_argument(
        "--stress-seconds",
        type=float,
        default=None,
        metavar="S",
        help="stress seconds per candidate (default 3)",
    )
    parser.add_argument(
        "--model-oracle",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ask the model for a brute force and generator when none is beside the file (default on)",
    )


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
    parser.add_argument("--temperature", type=float, default=None, help="default: the model's own")
    parser.add_argument("--top-p", type=float, default=None, help="default: the model's own")
    parser.add_argument("--top-k", type=int, default=None, help="0: off; default: the model's own")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds of CPU per example")
    parser.add_argument("--memory-limit", type=int, default=None, help="megabytes per example")
    _add_adapter_argument(parser)


def _add_adapter_argument(parser: argparse.ArgumentParser) -> None:
    """--adapter (env VIBETHINKER_ADAPTER): a LoRA adapter folder or id, or a served adapter's name."""
    parser.add_argument(
        "--adapter",
        default=os.environ.get("VIBETHINKER_ADAPTER"),
        help="LoRA adapter: a peft folder or Hugging Face id (in-process), or a served adapter name (openai)",
    )


def _add_finetune_arguments(parser: argparse.ArgumentParser) -> None:
    """The finetune subcommand (lsp_server/finetune_cli.py)."""
    from lsp_server import finetune_cli

    finetune_cli.add_arguments(parser)
    parser.set_defaults(run=finetune_cli.run)


def _add_judge_arguments(parser: argparse.ArgumentParser) -> None:
    """Wire the judge subcommand to the sandbox's own argument handling."""
    from sandbox import cli as judge_cli

    judge_cli.add_judge_arguments(parser)
    parser.set_defaults(run=judge_cli.run_judge)


def _add_stress_arguments(parser: argparse.ArgumentParser) -> None:
    """The stress subcommand (lsp_server/stress_cli.py), with the model options for a model-written oracle."""
    from lsp_server import stress_cli

    stress_cli.add_arguments(parser)
    _add_model_arguments(parser)
    parser.set_defaults(run=stress_cli.run)


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
    if getattr(args, "adapter", None):
        model["adapter"] = args.adapter
    generation = {
        key: value
        for key, value in {
            "candidates": args.candidates,
            "maxNewTokens": args.max_new_tokens,
            "thinkingBudget": args.thinking_budget,
            "temperature": args.temperature,
            "topP": args.top_p,
            "topK": args.top_k,
        }.items()
        if value is not None
    }
    judge = {
        k: v
        for k, v in {"timeLimit": args.time_limit, "memoryLimit": args.memory_limit}.items()
        if v is not None
    }
    verification = {
        k: v
        for k, v in {
            "stress": getattr(args, "stress", None),
            "stressSeconds": getattr(args, "stress_seconds", None),
            "modelOracle": getattr(args, "model_oracle", None),
        }.items()
        if v is not None
    }
    settings, errors = parse_settings(
        {"model": model, "generation": generation, "judge": judge, "verification": verification}
    )
    for error in errors:
        print(f"vibethinker-lsp: {error}", file=sys.stderr)
    return settings


def run_serve(args: argparse.Namespace) -> int:
    """Run the language server until the client exits."""
    from lsp_server.server import create_server

    server = create_server()
    if args.adapter:  # the default until the client's settings say otherwise
        model = dataclasses.replace(server.settings.model, adapter=args.adapter)
        server.settings = dataclasses.replace(server.settings, model=model)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"vibethinker-lsp: --tcp wants HOST:PORT, not {args.tcp!r}.", file=sys.stderr)
            return 2
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0


def run_web(args: argparse.Namespace) -> int:
    """Serve the web playground: loopback unless --host says otherwise, and then only behind --auth."""
    auth = None
    if args.auth:
        user, _, password = args.auth.partition(":")
        if not user or not password:
            print("vibethinker-lsp: --auth wants USER:PASSWORD, both non-empty.", file=sys.stderr)
            return 2
        auth = (user, password)
    if auth is None and not is_loopback(args.host):
        print(
            f"vibethinker-lsp: the page runs code, so listening on {args.host} needs a log-in; "
            "add --auth USER:PASSWORD (or keep the default --host 127.0.0.1).",
            file=sys.stderr,
        )
        return 2
    try:
        from lsp_server.web import serve
    except ImportError as exc:
        print(
            f"vibethinker-lsp: the web page needs Gradio ({exc.name} is missing); pip install -e '.[web]'.",
            file=sys.stderr,
        )
        return 2
    return serve(settings_from_args(args), args.host, args.port, auth, args.companion)


def is_loopback(host: str) -> bool:
    """Whether a host name or address stays on this machine."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _file_tasks(path: Path):
    """(text, language, tasks) of a file (lsp_server/solving.py reads it), or None after printing why."""
    from lsp_server.solving import read_tasks

    try:
        return read_tasks(path)
    except ValueError as exc:
        print(f"vibethinker-lsp: {exc}", file=sys.stderr)
        return None


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
    from codegen.prompts import task_messages
    from lsp_server.solving import make_judge, print_status, solve_task, warn_on_stderr
    from sandbox.isolation import IsolationUnavailable

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
    sampling = settings.sampling()
    print(f"Model {sampling.detected.short_name}: {sampling.describe()}", file=sys.stderr)
    try:
        judge = make_judge(settings, warn_on_stderr)
    except IsolationUnavailable as exc:
        print(f"vibethinker-lsp: {exc}", file=sys.stderr)
        return 2
    notices: list[str] = []
    engine = Engine(settings.model_config(), on_status=print_status, on_notice=notices.append)
    if settings.model.adapter and not _adapter_loads(engine, notices):
        return 2
    results, verified_edits = [], []
    try:
        for task in tasks:
            print(f"Solving {args.file}:{task.line} ({task.function or 'program'}) ...", file=sys.stderr)
            messages = task_messages(task, settings.generation.system_prompt or None)
            try:
                outcome = solve_task(
                    task,
                    settings,
                    engine,
                    judge,
                    messages=messages,
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
                    "stress": stress_json(best),
                }
            )
            if outcome.winner:
                verified_edits.append(outcome.edit())
                if args.record:
                    _record(args.record, task, messages, outcome.winner, settings)
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


def _adapter_loads(engine, notices: list[str]) -> bool:
    """Load the model now and say whether the requested adapter is in use (else print why and close)."""
    from codegen.backends.base import BackendError

    try:
        engine.load().future.result()
    except BackendError as exc:
        notices.append(str(exc))
    if not notices:
        return True
    print(f"vibethinker-lsp: {notices[0]}", file=sys.stderr)
    engine.close()
    return False


def _record(path: Path, task, messages, winner, settings) -> None:
    """Append a verified solution to the record file (a failure is reported, not fatal)."""
    from codegen import record

    solution = record.solution_of(
        task, messages, winner, model=settings.model.name, adapter=settings.model.adapter, source="solve"
    )
    try:
        record.append(path, solution)
    except record.RecordError as exc:
        print(f"vibethinker-lsp: {exc}", file=sys.stderr)
        return
    print(f"  recorded the verified solution in {path}", file=sys.stderr)


def stress_json(candidate) -> dict | None:
    """A solve result's `stress` record: oracle, runs, counterexample, max_size_seconds, and with no brute
    force the candidates' agreement (None: nothing was checked beyond the examples)."""
    report = candidate.stress if candidate is not None else None
    agreement = candidate.agreement if candidate is not None else None
    if report is None and agreement is None:
        return None
    found = report.counterexample if report else None
    oracle = report.oracle if report else "none"
    if agreement and oracle == "none":
        oracle = "agreement of the candidates"
    return {
        "oracle": oracle,
        "runs": report.runs if report else 0,
        "counterexample": found.to_json() if found else None,
        "max_size_seconds": report.max_size.seconds if report and report.max_size else None,
        "verdict": report.verdict.value if report else "AC",
        "message": report.message if report else "",
        "agreement": agreement,
        "broken_oracle": candidate.oracle_note,
    }


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


def run_download(args: argparse.Namespace) -> int:
    """Download weights into the Hugging Face cache."""
    from codegen.backends.base import DEFAULT_MODEL, BackendError
    from codegen.download import download_model
    from codegen.models import hub_id

    name = hub_id(args.model or os.environ.get("VIBETHINKER_MODEL") or DEFAULT_MODEL)
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

    report = collect(settings_from_args(args))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for section, values in report.items():
            print(f"{section}:")
            for key, value in values.items():
                print(f"  {key}: {value}")
    return 0
