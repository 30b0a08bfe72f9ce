"""Load: a scripted client floods the server while generations and judge runs go on.

Usage: python bench/load.py [--edits 5000] [--actions 500] [--completions 500] [--cancel 0.2] [--json]

One real server (stdio) on a fake OpenAI-compatible model that streams slowly. After a warm-up round a tenth
the size (so worker pools have their working size) it measures threads, child processes and RSS of the server (psutil), then sends,
as fast as the pipe takes them: thousands of incremental didChange, hundreds of code-action and completion
requests, a random share of them cancelled with $/cancelRequest, while Implement (generation + judge) and
Run-examples commands go on. It reports how many requests were answered (all must be), p50/p99 latency per
kind, and whether threads, children and RSS came back to the baseline once the work drained.
tests/test_load.py runs a bounded version of the same function in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from lsprotocol import types  # noqa: E402

from devtools.openai_server import FakeOpenAI  # noqa: E402
from devtools.rpc_client import RawClient, apply_lsp_edits, response_key  # noqa: E402
from devtools.samples import GOOD_REPLY, TWO_SUM_SOURCE  # noqa: E402

URI = "file:///tmp/vibethinker-load/two_sum.py"
REQUEST_CANCELLED = -32800


@dataclass
class LoadPlan:
    """How much load to send."""

    edits: int = 5000
    actions: int = 500
    completions: int = 500
    implements: int = 3
    cancel_share: float = 0.2
    chunk_delay_s: float = 0.01
    seed: int = 0
    settle_s: float = 60.0


@dataclass
class Sample:
    """One request sent during the load."""

    kind: str
    msg_id: int
    sent_at: float
    cancelled: bool = False


@dataclass
class Resources:
    """Threads, child processes and resident memory of the server."""

    threads: int
    children: int
    rss_mb: float

    @classmethod
    def of(cls, process: psutil.Process) -> Resources:
        """Measure now."""
        return cls(
            process.num_threads(), len(process.children(recursive=True)), process.memory_info().rss / 2**20
        )


@dataclass
class LoadReport:
    """What the load run measured."""

    sent: dict[str, int] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    cancelled_answers: int = 0
    internal_errors: int = 0
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    didchange_sent: int = 0
    send_seconds: float = 0.0
    drain_seconds: float = 0.0
    baseline: Resources | None = None
    peak: Resources | None = None
    after: Resources | None = None
    commands_ok: int = 0
    server_cpu_seconds: float = 0.0  # user + system CPU of the server during the load and its drain
    text_in_sync: bool = False
    server_alive: bool = False

    def all_answered(self) -> bool:
        """Whether every request got a response."""
        return self.sent == self.answered

    def to_json(self) -> dict:
        """A JSON-friendly dict."""
        out = dict(self.__dict__)
        for key in ("baseline", "peak", "after"):
            out[key] = getattr(self, key).__dict__ if getattr(self, key) else None
        return out


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def document(functions: int = 150) -> str:
    """two_sum with its TODO, then filler functions the edits land in."""
    filler = "".join(
        f"\n\ndef helper_{i}(xs):\n    total = 0\n    for x in xs:\n        total += x * {i}\n    return total\n"
        for i in range(functions)
    )
    return TWO_SUM_SOURCE + filler


def start_server(fake: FakeOpenAI) -> RawClient:
    """A server on the fake model with the document open."""
    client = RawClient()
    client.initialize(
        {
            "model": {"backend": "openai", "baseUrl": fake.base_url, "name": "fake"},
            "generation": {"candidates": 2},
            "completions": {"debounceMs": 10},
            "hover": {"explain": False},
        },
        capabilities={"window": {"workDoneProgress": True}},
    )
    client.open(URI, document())
    return client


def command(client: RawClient, name: str, line: int) -> int:
    """Start a vibethinker command on a 1-based line; its request id."""
    return client.request_async("workspace/executeCommand", {"command": name, "arguments": [URI, line]})


def code_action(client: RawClient, line: int) -> int:
    """Ask for the code actions at a line; the request id."""
    pos = {"line": line, "character": 4}
    return client.request_async(
        "textDocument/codeAction",
        {"textDocument": {"uri": URI}, "range": {"start": pos, "end": pos}, "context": {"diagnostics": []}},
    )


def completion(client: RawClient, line: int, character: int) -> int:
    """Ask for a completion; the request id."""
    return client.request_async(
        "textDocument/completion",
        {"textDocument": {"uri": URI}, "position": {"line": line, "character": character}},
    )


def warm_up(client: RawClient, plan: LoadPlan, todo_line: int, rng: random.Random) -> None:
    """A round a tenth the size of the load plus enough concurrent judge runs to fill asyncio's default
    thread pool, so pools and caches have their working size before the baseline (idle pool threads stay
    alive by design; a leak shows as growth beyond it)."""
    small = LoadPlan(
        max(1, plan.edits // 10), max(1, plan.actions // 10), max(1, plan.completions // 10), plan.implements
    )
    samples = send_load(client, small, todo_line, rng)
    for _ in range(min(32, (os.cpu_count() or 1) + 4)):  # fill asyncio's default thread pool to its size
        samples.append(Sample("command", command(client, "vibethinker.runExamples", 1), time.monotonic()))
    wait_for_answers(client, samples, timeout=plan.settle_s + 60)
    for sample in samples:
        client.wait_response(sample.msg_id, timeout=1)


def send_load(client: RawClient, plan: LoadPlan, todo_line: int, rng: random.Random) -> list[Sample]:
    """Send the edits, requests and cancellations; return the requests sent."""
    samples: list[Sample] = []
    first_filler = len(TWO_SUM_SOURCE.split("\n")) + 2
    for _ in range(plan.implements):
        samples.append(
            Sample("command", command(client, "vibethinker.implement", todo_line + 1), time.monotonic())
        )
    samples.append(Sample("command", command(client, "vibethinker.runExamples", 1), time.monotonic()))
    action_every = max(1, plan.edits // max(1, plan.actions))
    completion_every = max(1, plan.edits // max(1, plan.completions))
    typed_line = first_filler + 2
    pending: list[types.TextEdit] = []
    for step in range(plan.edits):
        column = 8 + (step % 40)
        if step % 80 == 79:
            type_text(client, pending, (typed_line, 8), (typed_line, 8 + 40), "")  # delete what was typed
        else:
            type_text(client, pending, (typed_line, column), (typed_line, column), rng.choice("ab1 +*😀é"))
        if step % action_every == 0:
            line = rng.choice([todo_line, first_filler + rng.randrange(500)])
            samples.append(Sample("codeAction", code_action(client, line), time.monotonic()))
        if step % completion_every == 0:
            samples.append(Sample("completion", completion(client, typed_line, column + 1), time.monotonic()))
        if samples and rng.random() < plan.cancel_share / max(1, action_every):
            victim = rng.choice(samples[-5:])
            if victim.kind != "command" and not victim.cancelled:
                victim.cancelled = True
                client.notify("$/cancelRequest", {"id": victim.msg_id})
    catch_up(client, pending)
    return samples


def type_text(
    client: RawClient, pending: list, start: tuple[int, int], end: tuple[int, int], text: str
) -> None:
    """Send one incremental didChange; the client's own copy catches up later (see catch_up), so the
    client's work per keystroke stays small and the figures measure the server."""
    version = client.editor.versions[URI] = client.editor.versions[URI] + 1
    rng = {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}}
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": URI, "version": version}, "contentChanges": [{"range": rng, "text": text}]},
    )
    pending.append(
        types.TextEdit(
            range=types.Range(start=types.Position(*start), end=types.Position(*end)), new_text=text
        )
    )


def catch_up(client: RawClient, pending: list) -> None:
    """Apply the sent edits, one at a time and in order, to the client's copy of the text."""
    text = client.editor.texts[URI]
    for edit in pending:
        text = apply_lsp_edits(text, [edit])
    client.editor.texts[URI] = text
    pending.clear()


def wait_for_answers(client: RawClient, samples: list[Sample], timeout: float) -> None:
    """Wait until every request has an answer (or the timeout passes)."""
    keys = [response_key(s.msg_id) for s in samples]
    try:
        client.wait_for(lambda: all(k in client.answered_at for k in keys), timeout, "all answers")
    except AssertionError:
        pass


def settle(process: psutil.Process, baseline: Resources, timeout: float) -> Resources:
    """Wait until threads and children are back at (or below) the baseline; the last measurement."""
    deadline = time.monotonic() + timeout
    while True:
        now = Resources.of(process)
        if (
            now.threads <= baseline.threads and now.children <= baseline.children
        ) or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


def run_load(plan: LoadPlan) -> LoadReport:
    """Run the whole load scenario once; the report."""
    rng = random.Random(plan.seed)
    report = LoadReport()
    reply = GOOD_REPLY + " " + " ".join(["thinking"] * 60)
    with FakeOpenAI(reply, completion="    return total\n", chunk_delay_s=plan.chunk_delay_s) as fake:
        client = start_server(fake)
        with client:
            process = psutil.Process(client.process.pid)
            todo_line = TWO_SUM_SOURCE.split("\n").index("    # TODO: hash map, O(n)")
            warm_up(client, plan, todo_line, rng)
            report.baseline = Resources.of(process)
            cpu_before = sum(process.cpu_times()[:2])
            started = time.monotonic()
            samples = send_load(client, plan, todo_line, rng)
            report.send_seconds = time.monotonic() - started
            report.didchange_sent = plan.edits
            report.peak = Resources.of(process)
            wait_for_answers(client, samples, timeout=plan.settle_s + 60)
            report.drain_seconds = time.monotonic() - started - report.send_seconds
            report.server_cpu_seconds = round(sum(process.cpu_times()[:2]) - cpu_before, 2)
            summarize(client, samples, report)
            report.after = settle(process, report.baseline, plan.settle_s)
            report.text_in_sync = text_in_sync(client, fake)
            report.server_alive = client.process.poll() is None
    return report


def summarize(client: RawClient, samples: list[Sample], report: LoadReport) -> None:
    """Count answers, errors and latencies per kind."""
    latencies: dict[str, list[float]] = {}
    for sample in samples:
        report.sent[sample.kind] = report.sent.get(sample.kind, 0) + 1
        key = response_key(sample.msg_id)
        if key not in client.answered_at:
            continue
        report.answered[sample.kind] = report.answered.get(sample.kind, 0) + 1
        response = client.wait_response(sample.msg_id, timeout=1)
        error = response.get("error")
        if error and error["code"] == REQUEST_CANCELLED:
            report.cancelled_answers += 1
        elif error and error["code"] == -32603:
            report.internal_errors += 1
        if sample.kind == "command" and response.get("result") is not None and not error:
            report.commands_ok += 1
        latencies.setdefault(sample.kind, []).append((client.answered_at[key] - sample.sent_at) * 1000)
    for kind, values in latencies.items():
        report.latency_ms[kind] = {
            "p50": round(statistics.median(values), 2),
            "p99": round(percentile(values, 0.99), 2),
            "max": round(max(values), 2),
        }


def text_in_sync(client: RawClient, fake: FakeOpenAI) -> bool:
    """Whether the server's text ends like the client's (read back through a completion prompt)."""
    text = client.editor.texts[URI]
    lines = text.split("\n")
    before = len(fake.requests)
    client.request(
        "textDocument/completion",
        {"textDocument": {"uri": URI}, "position": {"line": len(lines) - 1, "character": len(lines[-1])}},
        timeout=60,
    )
    prompts = [r.get("prompt") for r in fake.requests[before:] if "prompt" in r]
    return bool(prompts) and text.endswith(prompts[-1])


def main() -> None:
    """Run the load from the command line and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=5000)
    parser.add_argument("--actions", type=int, default=500)
    parser.add_argument("--completions", type=int, default=500)
    parser.add_argument("--implements", type=int, default=3)
    parser.add_argument("--cancel", type=float, default=0.2, help="share of requests cancelled")
    parser.add_argument("--chunk-delay", type=float, default=0.01, help="seconds between streamed words")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    plan = LoadPlan(
        args.edits, args.actions, args.completions, args.implements, args.cancel, args.chunk_delay
    )
    report = run_load(plan)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return
    print(
        f"didChange sent: {report.didchange_sent} in {report.send_seconds:.1f} s (drain {report.drain_seconds:.1f} s)"
    )
    for kind, sent in report.sent.items():
        lat = report.latency_ms.get(kind, {})
        print(
            f"{kind:>11}: {report.answered.get(kind, 0)}/{sent} answered; p50 {lat.get('p50')} ms, p99 {lat.get('p99')} ms"
        )
    print(f"cancelled answers: {report.cancelled_answers}; internal errors: {report.internal_errors}")
    print(f"server CPU during the load: {report.server_cpu_seconds} s")
    print(f"baseline {report.baseline}; peak {report.peak}; after {report.after}")
    print(f"text in sync: {report.text_in_sync}; server alive: {report.server_alive}")


if __name__ == "__main__":
    main()
