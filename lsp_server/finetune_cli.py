"""`vibethinker-lsp finetune DATA... --output DIR`: flags, a progress bar on a terminal, the result."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

BAR_WIDTH = 24


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags (defaults: the model community's LoRA recipe, rank 8, alpha 16, dropout 0.05, q/v)."""
    parser.add_argument("data", type=Path, nargs="+", help="JSONL files of chat examples")
    parser.add_argument("--output", "-o", type=Path, required=True, help="folder for the adapter")
    parser.add_argument(
        "--model", default=os.environ.get("VIBETHINKER_MODEL"), help="base model id or folder"
    )
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--dropout", type=float, default=0.05)
    parser.add_argument(
        "--target-modules", default="q_proj,v_proj", help="comma-separated module names, or all-linear"
    )
    parser.add_argument("--epochs", type=int, default=None, help="passes over the data (default 3)")
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps (wins over --epochs)")
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=4096, help="tokens per example (longer are cut)")
    parser.add_argument(
        "--quantize", choices=("none", "8bit", "4bit"), default="none", help="QLoRA with bitsandbytes (CUDA)"
    )
    parser.add_argument("--eval-split", type=float, default=0.0, help="held-out fraction (< 1) or count")
    parser.add_argument(
        "--verify",
        type=Path,
        metavar="FILE",
        help="re-solve FILE's recorded tasks with and without the adapter",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "mps", "cpu"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true", help="replace an adapter already at --output")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def options_from(args: argparse.Namespace):
    """FinetuneOptions from the parsed flags."""
    from codegen.backends.base import DEFAULT_MODEL
    from codegen.finetune import FinetuneOptions

    return FinetuneOptions(
        data=tuple(args.data),
        output=args.output,
        model=args.model or DEFAULT_MODEL,
        rank=args.rank,
        alpha=args.alpha,
        dropout=args.dropout,
        target_modules=args.target_modules,
        epochs=args.epochs,
        steps=args.steps,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        quantize=args.quantize,
        eval_split=args.eval_split,
        verify=args.verify,
        device=args.device,
        seed=args.seed,
        overwrite=args.overwrite,
    )


class ProgressBar:
    """One redrawn line on a terminal: steps, loss and tokens/s; a line per tenth of the run otherwise."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = 0.0
        self._tenth = -1

    def __call__(self, step: int, total: int, loss: float, tokens_per_second: float) -> None:
        """Show one step's progress."""
        now = time.monotonic()
        line = f"step {step}/{total}  loss {loss:.4f}  {tokens_per_second:,.0f} tokens/s"
        if self.tty:
            if step < total and now - self._last < 0.1:
                return
            self._last = now
            filled = BAR_WIDTH * step // total
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {line}" + ("\n" if step == total else ""))
        elif 10 * step // total != self._tenth:
            self._tenth = 10 * step // total
            self.stream.write(line + "\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    """Train, print the result (or one sentence on bad input); exit 0, or 2 when it could not run."""
    from codegen.finetune import FinetuneError
    from codegen.finetune import run as finetune

    def say(message: str) -> None:
        print(f"finetune: {message}", file=sys.stderr)

    try:
        result = finetune(options_from(args), on_step=ProgressBar(), on_message=say)
    except FinetuneError as exc:
        print(f"vibethinker-lsp: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    print(summary(result))
    return 0


def summary(result) -> str:
    """What the run did, in a few lines."""
    lines = [
        f"Saved the adapter to {result.adapter}: {result.examples} examples, {result.steps} steps, "
        f"loss {result.loss_first:.4f} -> {result.loss_last:.4f} ({result.seconds:.0f} s)."
    ]
    if result.eval_loss is not None:
        lines.append(
            f"Held-out loss ({result.held_out} examples): {result.eval_loss_before:.4f} -> {result.eval_loss:.4f}."
        )
    if result.verify is not None:
        v = result.verify
        lines.append(
            f"Verified on {v['tasks']} recorded tasks: {v['verified_with']} with the adapter, "
            f"{v['verified_without']} without."
        )
    lines.append(f"Use it: vibethinker-lsp solve FILE --adapter {result.adapter}, or set model.adapter.")
    return "\n".join(lines)
