"""Train a LoRA adapter with peft on chat JSONL (the record of verified solutions, or any data in that format).

The loss covers the assistant turns only (the prompt's tokens are masked out). The adapter is saved through a
temporary folder next to `--output` and renamed into place, so an interrupted run leaves nothing half-written.
Checks that training helped: the held-out loss before and after (`eval_split`), and re-solving recorded tasks
with and without the new adapter (`verify`).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import os
import random
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codegen.backends.base import DEFAULT_MODEL, BackendError, GenerationParams, ModelConfig
from codegen.record import RecordError, read, task_from_entry

IGNORE = -100  # label of tokens the loss skips
TRAINING_FILE = "training.json"

# on_step(step, total_steps, loss, tokens_per_second)
OnStep = Callable[[int, int, float, float], None]


class FinetuneError(Exception):
    """Training cannot start or finish; the message is one sentence saying what to do."""


@dataclass(frozen=True)
class FinetuneOptions:
    """What to train on, how, and where the adapter goes (the command line's flags)."""

    data: tuple[Path, ...]
    output: Path
    model: str = DEFAULT_MODEL
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    target_modules: str = "q_proj,v_proj"  # comma-separated module names, or all-linear
    epochs: int | None = None  # default: 3 when `steps` is not given
    steps: int | None = None  # optimizer steps; wins over epochs
    lr: float = 2e-4
    batch_size: int = 4
    max_length: int = 4096
    quantize: str = "none"  # none, 8bit, 4bit (QLoRA; CUDA only)
    eval_split: float = 0.0  # fraction (< 1) or number (>= 1) of examples held out
    verify: Path | None = None  # a record whose tasks are re-solved with and without the adapter
    device: str = "auto"
    seed: int = 0
    overwrite: bool = False


@dataclass
class FinetuneResult:
    """What a run did, printed by `finetune --json`."""

    adapter: str
    examples: int
    steps: int
    loss_first: float
    loss_last: float
    eval_loss: float | None = None  # held-out loss after training
    eval_loss_before: float | None = None  # held-out loss of the base model
    seconds: float = 0.0
    skipped: int = 0  # lines that were not usable chat examples
    held_out: int = 0
    verify: dict | None = None  # {"tasks", "verified_with", "verified_without"}
    losses: list[float] = field(default_factory=list)

    def to_json(self) -> dict:
        """The `--json` object."""
        out = {
            "adapter": self.adapter,
            "examples": self.examples,
            "steps": self.steps,
            "loss_first": self.loss_first,
            "loss_last": self.loss_last,
            "eval_loss": self.eval_loss,
            "eval_loss_before": self.eval_loss_before,
            "seconds": round(self.seconds, 2),
            "skipped": self.skipped,
            "held_out": self.held_out,
        }
        if self.verify is not None:
            out["verify"] = self.verify
        return out


@dataclass(frozen=True)
class Encoded:
    """One tokenized example: ids, and labels that are IGNORE outside the assistant turns."""

    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        """Tokens the loss covers."""
        return sum(1 for label in self.labels if label != IGNORE)


# --- data ----------------------------------------------------------------------------------------------------


def chat_of(data: dict) -> list[dict[str, str]] | None:
    """The messages of a line when it is a usable chat example (string turns, at least one assistant turn)."""
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    clean = []
    for message in messages:
        if not isinstance(message, dict):
            return None
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            return None
        clean.append({"role": role, "content": content})
    return clean if any(m["role"] == "assistant" and m["content"] for m in clean) else None


def load_chats(paths: tuple[Path, ...]) -> tuple[list[list[dict[str, str]]], int]:
    """The usable chat examples of JSONL files and how many lines were skipped; FinetuneError when none."""
    chats, skipped = [], 0
    try:
        for _path, _number, data in read(list(paths)):
            chat = chat_of(data)
            if chat is None:
                skipped += 1
            else:
                chats.append(chat)
    except RecordError as exc:
        raise FinetuneError(str(exc)) from exc
    if not chats:
        names = ", ".join(str(p) for p in paths)
        raise FinetuneError(
            f"{names} holds no chat examples; each line must be "
            '{"messages": [{"role": ..., "content": ...}, ...]} with an assistant turn.'
        )
    return chats, skipped


def assistant_spans(tokenizer, messages: list[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered chat and the character spans of its assistant turns (content and end-of-turn token)."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    spans, cursor = [], 0
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True)
        through = tokenizer.apply_chat_template(messages[: i + 1], tokenize=False)
        if i and text.startswith(before) and text.startswith(through) and len(through) > len(before):
            spans.append((len(before), len(through)))
            cursor = len(through)
            continue
        start = text.find(message["content"], cursor)  # a template that rewrites history: the content alone
        if start >= 0:
            spans.append((start, start + len(message["content"])))
            cursor = start + len(message["content"])
    return text, spans


def encode(tokenizer, messages: list[dict[str, str]], max_length: int) -> Encoded | None:
    """Tokenize a chat with labels on the assistant turns only; None when nothing trainable is left."""
    text, spans = assistant_spans(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])[:max_length]
    offsets = list(enc["offset_mapping"])[: len(ids)]
    labels = [
        token if any(lo <= start < hi for lo, hi in spans) else IGNORE
        for token, (start, _end) in zip(ids, offsets, strict=True)
    ]
    example = Encoded(ids, labels)
    return example if example.trained_tokens else None


def split(examples: list, eval_split: float, seed: int) -> tuple[list, list]:
    """(train, held out): a fraction (< 1) or a count (>= 1) of the examples, chosen at random."""
    if eval_split <= 0:
        return examples, []
    held = int(eval_split) if eval_split >= 1 else int(round(len(examples) * eval_split))
    held = max(1, held)
    if held >= len(examples):
        raise FinetuneError(
            f"--eval-split {eval_split:g} holds out {held} of {len(examples)} examples and leaves none to "
            "train on; record more solutions or lower --eval-split."
        )
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    chosen = set(order[:held])
    train = [e for i, e in enumerate(examples) if i not in chosen]
    return train, [examples[i] for i in sorted(chosen)]


# --- the model -----------------------------------------------------------------------------------------------


def check_options(options: FinetuneOptions) -> None:
    """Reject what cannot work before anything heavy is loaded."""
    import importlib.util

    if importlib.util.find_spec("peft") is None:
        raise FinetuneError(
            "finetune needs the peft package; install it with `pip install 'vibethinker-lsp[train]'`."
        )
    if options.quantize not in ("none", "8bit", "4bit"):
        raise FinetuneError(f"--quantize must be none, 8bit or 4bit, not {options.quantize!r}.")
    if options.quantize != "none":
        from codegen.backends.transformers_backend import pick_device

        device = pick_device(options.device)
        if not device.startswith("cuda"):
            raise FinetuneError(
                f"--quantize {options.quantize} (QLoRA with bitsandbytes) needs a CUDA GPU and this machine "
                f"trains on {device}; use --quantize none."
            )
        if importlib.util.find_spec("bitsandbytes") is None:
            raise FinetuneError(
                f"--quantize {options.quantize} needs bitsandbytes; install it with "
                "`pip install 'vibethinker-lsp[quant]'` or use --quantize none."
            )
    for name, value in (("--rank", options.rank), ("--batch-size", options.batch_size)):
        if value < 1:
            raise FinetuneError(f"{name} must be at least 1, not {value}.")
    if any(value is not None and value < 1 for value in (options.steps, options.epochs)):
        raise FinetuneError("--steps and --epochs must be at least 1.")
    if not 0 <= options.dropout < 1:
        raise FinetuneError(f"--dropout must be in [0, 1), not {options.dropout}.")
    if options.max_length < 16:
        raise FinetuneError(f"--max-length must be at least 16, not {options.max_length}.")
    out = options.output
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        if not (options.overwrite and (out / "adapter_config.json").is_file()):
            raise FinetuneError(
                f"{out} already exists; choose another --output, or add --overwrite to replace an adapter there."
            )


def target_modules(spec: str) -> str | list[str]:
    """peft's target_modules from the flag: 'all-linear' or a comma-separated list of module names."""
    spec = spec.strip()
    if spec == "all-linear":
        return spec
    names = [name.strip() for name in spec.split(",") if name.strip()]
    if not names:
        raise FinetuneError("--target-modules needs module names (e.g. q_proj,v_proj) or all-linear.")
    return names


def load_for_training(options: FinetuneOptions):
    """(tokenizer, peft model, device): the base model with fresh LoRA layers, ready to train."""
    from peft import LoraConfig, get_peft_model

    from codegen.backends.transformers_backend import load_model

    config = ModelConfig(name=options.model, device=options.device, quantization=options.quantize)
    try:
        tokenizer, model, device = load_model(config)
    except BackendError as exc:
        raise FinetuneError(str(exc)) from exc
    if options.quantize != "none":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    lora = LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha,
        lora_dropout=options.dropout,
        target_modules=target_modules(options.target_modules),
        task_type="CAUSAL_LM",
    )
    try:
        with warnings.catch_warnings():  # transformers' deprecation notices, raised inside peft
            warnings.simplefilter("ignore", FutureWarning)
            peft_model = get_peft_model(model, lora)
    except ValueError as exc:
        first = (str(exc).strip().splitlines() or ["?"])[0][:200]
        raise FinetuneError(
            f"--target-modules {options.target_modules} does not fit {options.model}: {first}"
        ) from exc
    return tokenizer, peft_model, device


def batches(examples: list[Encoded], batch_size: int, rng: random.Random):
    """Endless shuffled batches, epoch after epoch."""
    while True:
        order = list(examples)
        rng.shuffle(order)
        for i in range(0, len(order), batch_size):
            yield order[i : i + batch_size]


def collate(batch: list[Encoded], pad_id: int, device: str):
    """Right-padded tensors: input_ids, attention_mask, labels."""
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, example in enumerate(batch):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return ids.to(device), mask.to(device), labels.to(device)


def mean_loss(model, examples: list[Encoded], pad_id: int, device: str, batch_size: int) -> float:
    """Token-weighted loss on examples, without dropout or gradients."""
    import torch

    model.eval()
    total, tokens = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            batch = examples[i : i + batch_size]
            ids, mask, labels = collate(batch, pad_id, device)
            out = model(input_ids=ids, attention_mask=mask, labels=labels)
            count = sum(e.trained_tokens for e in batch)
            total += float(out.loss) * count
            tokens += count
    model.train()
    return total / max(1, tokens)


def learning_rate(step: int, total: int, peak: float) -> float:
    """Linear warm-up over the first 5% of steps, then cosine decay to a tenth of the peak."""
    warmup = max(1, total // 20)
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(
    model, examples: list[Encoded], options: FinetuneOptions, pad_id: int, device: str, total: int, on_step
):
    """Run `total` optimizer steps; return the loss of every step."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=options.lr, weight_decay=0.0)
    rng = random.Random(options.seed)
    stream = batches(examples, options.batch_size, rng)
    losses: list[float] = []
    model.train()
    started = time.monotonic()
    seen = 0
    for step in range(total):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, total, options.lr)
        batch = next(stream)
        ids, mask, labels = collate(batch, pad_id, device)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        if not torch.isfinite(loss):
            raise FinetuneError(
                f"The loss became {float(loss)} at step {step + 1}; lower --lr and try again."
            )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach().item())
        seen += int(mask.sum())
        if on_step is not None:
            elapsed = time.monotonic() - started
            on_step(step + 1, total, losses[-1], seen / elapsed if elapsed > 0 else 0.0)
    return losses


# --- saving --------------------------------------------------------------------------------------------------


def save_atomically(model, output: Path, info: dict, overwrite: bool) -> None:
    """Save the adapter into a temporary folder beside `output`, then rename it into place (whole or not at all)."""
    output = output.expanduser().absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    temp = output.parent / f".{output.name}.partial-{os.getpid()}"
    old = output.parent / f".{output.name}.old-{os.getpid()}"
    try:
        model.save_pretrained(str(temp))
        (temp / TRAINING_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if output.exists():
            if any(output.iterdir()) and not overwrite:
                raise FinetuneError(f"{output} appeared while training; the adapter was not saved.")
            os.rename(output, old)
        os.rename(temp, output)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


# --- checks that training helped -----------------------------------------------------------------------------


def verify_adapter(options: FinetuneOptions, adapter: Path, tokenizer) -> dict:
    """Re-solve the tasks of a record greedily without and with the adapter; count the verified ones."""
    from codegen.engine import Engine
    from codegen.pipeline import solve
    from sandbox import Judge

    items = []
    try:
        for _path, _number, data in read([options.verify]):
            task, chat = task_from_entry(data), chat_of(data)
            if task is not None and chat is not None and chat[-1]["role"] == "assistant":
                items.append(
                    (task, chat[:-1], len(tokenizer.encode(chat[-1]["content"], add_special_tokens=False)))
                )
    except RecordError as exc:
        raise FinetuneError(str(exc)) from exc
    if not items:
        raise FinetuneError(
            f"{options.verify} holds no recorded tasks to verify (lines from `solve --record`)."
        )
    notices: list[str] = []
    config = ModelConfig(name=options.model, device=options.device)
    engine = Engine(config, on_notice=notices.append)
    judge = Judge()
    counts = {}
    try:
        for label, name in (("verified_without", ""), ("verified_with", str(adapter))):
            engine.reload(dataclasses.replace(config, adapter=name))
            counts[label] = 0
            for task, messages, reply_tokens in items:
                params = GenerationParams(
                    max_new_tokens=reply_tokens + 32, temperature=0.0, n=1, thinking_budget=0
                )
                outcome = solve(task, engine, judge, params, messages=messages, measure=False)
                counts[label] += outcome.winner is not None
            if notices:
                raise FinetuneError(notices[0])
    except BackendError as exc:
        raise FinetuneError(str(exc)) from exc
    finally:
        engine.close()
    return {"tasks": len(items), **counts}


# --- the whole run -------------------------------------------------------------------------------------------


def run(
    options: FinetuneOptions, on_step: OnStep | None = None, on_message: Callable[[str], None] | None = None
) -> FinetuneResult:
    """Load, encode, train, evaluate, save atomically, and optionally verify; FinetuneError for bad input."""
    import torch

    say = on_message or (lambda message: None)
    started = time.monotonic()
    check_options(options)
    chats, skipped = load_chats(options.data)
    torch.manual_seed(options.seed)
    say(f"loading {options.model}")
    tokenizer, model, device = load_for_training(options)
    encoded = [e for e in (encode(tokenizer, chat, options.max_length) for chat in chats) if e is not None]
    skipped += len(chats) - len(encoded)
    if not encoded:
        raise FinetuneError(
            f"No example keeps an assistant turn within --max-length {options.max_length}; raise --max-length."
        )
    train_set, held = split(encoded, options.eval_split, options.seed)
    per_epoch = math.ceil(len(train_set) / options.batch_size)
    total = options.steps or per_epoch * (options.epochs or 3)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    before = mean_loss(model, held, pad_id, device, options.batch_size) if held else None
    say(f"training on {len(train_set)} examples for {total} steps")
    losses = train(model, train_set, options, pad_id, device, total, on_step)
    after = mean_loss(model, held, pad_id, device, options.batch_size) if held else None
    result = FinetuneResult(
        adapter=str(options.output),
        examples=len(train_set),
        steps=total,
        loss_first=losses[0],
        loss_last=losses[-1],
        eval_loss=after,
        eval_loss_before=before,
        skipped=skipped,
        held_out=len(held),
        losses=losses,
    )
    info = {
        **result.to_json(),
        "model": options.model,
        "rank": options.rank,
        "alpha": options.alpha,
        "dropout": options.dropout,
        "target_modules": options.target_modules,
        "lr": options.lr,
        "batch_size": options.batch_size,
        "data": [str(p) for p in options.data],
    }
    save_atomically(model, options.output, info, options.overwrite)
    del model
    gc.collect()
    if options.verify is not None:
        say(f"verifying on the tasks of {options.verify}")
        result.verify = verify_adapter(options, options.output, tokenizer)
    result.seconds = time.monotonic() - started
    return result
