"""A fast decoding loop over a transformers causal LM, in the gpt-fast style.

One prefill, then one token per step for N sequences in one batch. The state between steps is one small
object (`DecodeSession`); `next_tokens` picks the next token of every row (temperature/top-k/top-p sampling or
greedy, then a pending forced token wins); `advance_rows` appends the tokens: text, the thinking budget (which
closes `<think>` by forcing tokens), stop strings, the end of each row. The caller advances a session with
`step()` and reads what each step produced (`codegen.backends.base.Step`): nothing is called back from inside
the loop. Optional prompt-lookup drafts run for a single sequence (n = 1). On CUDA the KV cache is static (sized
once per bucketed length, kept in a pool between jobs) and the decode step is compiled with CUDA graphs;
elsewhere the same loop runs eagerly on a dynamic cache.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from codegen.backends.base import (
    THINK_CLOSE,
    THINK_END,
    OnCandidate,
    OnText,
    ShouldStop,
    Step,
    drive,
)

# Static KV cache lengths: a job uses the smallest that holds prompt + new tokens, so compiled graphs are reused.
CACHE_BUCKETS = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
MAX_KEPT_CACHES = 3


def bucket_length(length: int, buckets: Sequence[int] = CACHE_BUCKETS) -> int:
    """Round a length up to the smallest bucket that holds it; past the largest, to a multiple of it."""
    if length <= 0:
        return buckets[0]
    for bucket in buckets:
        if length <= bucket:
            return bucket
    largest = buckets[-1]
    return -(-length // largest) * largest


def sample(
    logits: torch.Tensor, temperature: float, top_p: float, generator=None, top_k: int = 0
) -> torch.Tensor:
    """Pick one token per row of `logits` (rows, vocab): greedy at temperature 0, else top-k/nucleus sampling."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    if 0 < top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if 0 < top_p < 1:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass of the more likely tokens
        sorted_probs = sorted_probs.masked_fill(before > top_p, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def find_draft(history: Sequence[int], num_tokens: int, max_ngram: int = 3) -> list[int]:
    """Prompt lookup: the tokens that followed an earlier occurrence of the history's last n-gram.

    Longer n-grams first; among matches, the most recent one that has `num_tokens` tokens after it.
    """
    if num_tokens <= 0:
        return []
    best: list[int] = []
    for size in range(min(max_ngram, len(history) - 1), 0, -1):
        tail = list(history[-size:])
        for start in range(len(history) - size - 1, -1, -1):
            if history[start + size - 1] != tail[-1] or list(history[start : start + size]) != tail:
                continue
            follow = list(history[start + size : start + size + num_tokens])
            if len(follow) == num_tokens:
                return follow
            if len(follow) > len(best):
                best = follow
        if best:
            return best
    return best


class TextStream:
    """Turns token ids into text pieces as they come, holding back incomplete UTF-8 characters.

    With a fast tokenizer (and no clean-up of spaces) one call into the Rust streaming decoder per token;
    otherwise two short decodes of the tail of the ids."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.text = ""
        self._prefix = 0
        self._read = 0
        self._rust = getattr(tokenizer, "_tokenizer", None)
        self._stream = None
        if self._rust is not None and not getattr(tokenizer, "clean_up_tokenization_spaces", False):
            from tokenizers.decoders import DecodeStream

            self._stream = DecodeStream(skip_special_tokens=False)

    def _decode(self, start: int, end: int) -> str:
        """Decode a slice of the ids, special tokens included."""
        return self.tokenizer.decode(self.ids[start:end], skip_special_tokens=False)

    def push(self, token_id: int) -> str:
        """Add one token; return the new text it completes (often "", while a character is incomplete)."""
        self.ids.append(token_id)
        if self._stream is not None:
            delta = self._stream.step(self._rust, token_id) or ""
            if delta:
                self._read = len(self.ids)
        else:
            before = self._decode(self._prefix, self._read)
            after = self._decode(self._prefix, len(self.ids))
            if len(after) <= len(before) or after.endswith("\ufffd"):
                return ""
            delta = after[len(before) :]
            self._prefix, self._read = self._read, len(self.ids)
        self.text += delta
        return delta

    def flush(self) -> str:
        """Return whatever text is still held back (at the end of the sequence)."""
        if self._read == len(self.ids):
            return ""
        start = self._read if self._stream is not None else self._prefix
        before = "" if self._stream is not None else self._decode(self._prefix, self._read)
        after = self._decode(start, len(self.ids))
        delta = after[len(before) :]
        self._prefix = self._read = len(self.ids)
        self.text += delta
        return delta


@dataclass(frozen=True)
class DecodeOptions:
    """What one generation asks for."""

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    thinking_budget: int = 0  # 0: no budget
    prompt_lookup_num_tokens: int = 0  # used for a single sequence only (n = 1)
    stop: tuple[str, ...] = ()
    seed: int | None = None
    top_k: int = 0  # 0: off


@dataclass
class Row:
    """One sequence of the batch: its text, pending forced tokens and how it ended."""

    stream: TextStream
    forced: deque = field(default_factory=deque)
    thinking_tokens: int = 0
    thinking_closed: bool = False
    reason: str = ""  # "" while running; then eos, stop, length, cancelled or winner_found


@dataclass
class DecodeResult:
    """The generated texts and token ids, one per sequence, and why each ended."""

    texts: list[str]
    token_ids: list[list[int]]
    reasons: list[str]
    winner: int | None = None
    forward_passes: int = 0  # model calls after the prefill
    accepted_draft_tokens: int = 0  # prompt-lookup tokens the model agreed with


@dataclass(frozen=True)
class RowRules:
    """What ends a row or forces its tokens: the end-of-sequence ids and the tokens that close reasoning."""

    eos_ids: frozenset[int]
    close_ids: tuple[int, ...]


def next_tokens(logits: torch.Tensor, rows: list[Row], options: DecodeOptions, generator) -> torch.Tensor:
    """The next token of every row (on the device): sampled or greedy, then a pending forced token wins.

    Forced tokens (the thinking budget) are a few steps per sequence, so the host round trip is paid only then.
    """
    tokens = sample(logits, options.temperature, options.top_p, generator, options.top_k)
    if not any(row.forced and not row.reason for row in rows):
        return tokens
    chosen = tokens.tolist()
    for i, row in enumerate(rows):
        if row.forced and not row.reason:
            chosen[i] = row.forced.popleft()
    return torch.tensor(chosen, dtype=tokens.dtype, device=tokens.device)


def advance_rows(
    rows: list[Row], tokens: Sequence[int], generated: int, options: DecodeOptions, rules: RowRules
) -> Step:
    """Append each running row's token (the `generated`-th): its text, the thinking budget, and the end of rows
    that finished (end of sequence, a stop string, the length limit); return what changed."""
    step = Step()
    for i, (row, token) in enumerate(zip(rows, tokens, strict=True)):
        if row.reason:
            continue
        step.tokens += 1
        if token in rules.eos_ids:
            end_row(i, row, "eos", step)
            continue
        delta = row.stream.push(token)
        step.pieces.append((i, delta))
        track_thinking(row, delta, options.thinking_budget, rules.close_ids)
        if options.stop and any(s in row.stream.text[-(len(s) + len(delta)) :] for s in options.stop):
            end_row(i, row, "stop", step)
        elif generated >= options.max_new_tokens:
            end_row(i, row, "length", step)
    return step


def track_thinking(row: Row, delta: str, budget: int, close_ids: Sequence[int]) -> None:
    """Count reasoning tokens; when the budget is spent without `</think>`, queue the close as forced tokens."""
    if row.thinking_closed:
        return
    if THINK_END in row.stream.text[-(len(THINK_END) + len(delta)) :]:
        row.thinking_closed = True
        return
    row.thinking_tokens += 1
    if budget and row.thinking_tokens >= budget and not row.forced:
        row.forced.extend(close_ids)


def end_row(index: int, row: Row, reason: str, step: Step) -> None:
    """End a row: flush its held-back text into the step and list it as finished."""
    row.reason = reason
    tail = row.stream.flush()
    if tail:
        step.pieces.append((index, tail))
    step.finished.append((index, row.stream.text))


def stop_rows(rows: list[Row], reason: str) -> None:
    """End the rows still running with `reason`, flushing the text each has so far."""
    for row in rows:
        if not row.reason:
            row.reason = reason
            row.stream.flush()


class DecodeSession:
    """One batch between steps (the gpt-fast state): rows, the KV cache and position, the next logits.

    Made by `FastDecoder.start`; each `step()` runs one forward pass (the first also the prefill). The session
    owns its KV cache until `close()` gives it back to the decoder's pool, so sessions can be interleaved.
    """

    def __init__(
        self, decoder: FastDecoder, prompt_ids: list[int], n: int, options: DecodeOptions, kv
    ) -> None:
        """Prepare the batch on a (length, KV cache) pair; nothing runs on the model before the first step."""
        self.decoder = decoder
        self.prompt_ids = list(prompt_ids)
        self.options = options
        self.cache_length, self.cache = kv
        self.rows = [Row(TextStream(decoder.tokenizer)) for _ in range(n)]
        self.rules = decoder.rules
        self.draft_size = options.prompt_lookup_num_tokens if n == 1 else 0
        self.generator = None
        if options.seed is not None:
            self.generator = torch.Generator(device=decoder.device).manual_seed(options.seed)
        # Next-token logits: (rows, vocab); (rows, k, vocab) with drafts; None before the prefill.
        self.logits: torch.Tensor | None = None
        self.position = len(prompt_ids)
        self.generated = 0
        self.passes = 0
        self.accepted = 0
        self.draft: list[int] = []
        self.history = list(prompt_ids)  # for prompt lookup
        self.winner: int | None = None
        self._stopped = False

    @property
    def done(self) -> bool:
        """Whether every row has ended."""
        return self._stopped or all(row.reason for row in self.rows)

    @torch.no_grad()
    def step(self) -> Step:
        """Run one forward pass and return the tokens it settled (the prefill comes with the first)."""
        if self.logits is None:
            prompt = torch.tensor(
                [self.prompt_ids] * len(self.rows), dtype=torch.long, device=self.decoder.device
            )
            self.logits = self.decoder.prefill(prompt, self.cache)
            if self.draft_size:
                self.logits = self.logits.unsqueeze(1)
        return self._step_with_draft() if self.draft_size else self._step_overlapped()

    def _step_overlapped(self) -> Step:
        """One token per row, the next forward pass queued on the device before the host reads this one's tokens
        (on CUDA the Python work of this step overlaps the GPU's work on the next)."""
        tokens = next_tokens(self.logits, self.rows, self.options, self.generator)
        on_host, copied = copy_to_host(tokens)
        if self.generated + 1 < self.options.max_new_tokens:
            self.logits = self.decoder.decode_tokens(tokens.unsqueeze(1), self.position, self.cache)[:, 0, :]
            self.passes += 1
            self.position += 1
        if copied is not None:
            copied.synchronize()
        self.generated += 1
        return advance_rows(self.rows, on_host.tolist(), self.generated, self.options, self.rules)

    def _step_with_draft(self) -> Step:
        """One sequence: take the model's tokens while they agree with the draft, then feed a new draft."""
        step, accepted, token = Step(), 0, None
        for j in range(self.logits.shape[1]):
            token = next_tokens(self.logits[:, j, :], self.rows, self.options, self.generator).tolist()[0]
            self.generated += 1
            step.extend(advance_rows(self.rows, [token], self.generated, self.options, self.rules))
            self.history.append(token)
            if j >= len(self.draft) or token != self.draft[j] or self.done:
                break
            accepted += 1
        if self.draft and accepted < len(self.draft):
            self.cache.crop(-(len(self.draft) - accepted))  # forget the rejected draft tokens
        self.position += accepted
        self.accepted += accepted
        if self.done:
            return step
        self.draft = [] if self.rows[0].forced else find_draft(self.history, self.draft_size)
        feed = torch.tensor([[token] + self.draft], dtype=torch.long, device=self.decoder.device)
        self.logits = self.decoder.decode_tokens(feed, self.position, self.cache)
        self.passes += 1
        self.position += 1
        return step

    def stop(self, reason: str = "cancelled") -> None:
        """End the rows still running with `reason` (cancelled, winner_found); their text so far stays."""
        self._stopped = True
        stop_rows(self.rows, reason)

    def result(self) -> DecodeResult:
        """The rows as a result."""
        return DecodeResult(
            texts=[row.stream.text for row in self.rows],
            token_ids=[list(row.stream.ids) for row in self.rows],
            reasons=[row.reason for row in self.rows],
            winner=self.winner,
            forward_passes=self.passes,
            accepted_draft_tokens=self.accepted,
        )

    def close(self) -> None:
        """Give the KV cache back to the decoder's pool (once)."""
        if self.cache is not None:
            self.decoder.keep_cache(len(self.rows), self.cache_length, self.cache)
            self.cache = None


class FastDecoder:
    """Decodes with one model; on CUDA it keeps a pool of static KV caches and a compiled decode step."""

    def __init__(
        self,
        model,
        tokenizer,
        static_cache: bool = False,
        compile_step: bool = False,
        compile_options: dict | None = None,
    ) -> None:
        """Wrap a loaded model; `compile_step` needs the static cache, and CUDA unless options are explicit."""
        self.model = model
        self.tokenizer = tokenizer
        self.device = next(model.parameters()).device
        self.static_cache = static_cache
        explicit = compile_options is not None
        self.compile_step = compile_step and static_cache and (self.device.type == "cuda" or explicit)
        self.eos_ids = eos_token_ids(model, tokenizer)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.eos_ids)
        self._close_ids = tuple(tokenizer.encode(THINK_CLOSE, add_special_tokens=False))
        # The static caches no session holds: rows -> (length, cache). A session takes one and gives it back.
        self._caches: dict[int, tuple[int, object]] = {}
        options = compile_options if explicit else {"mode": "reduce-overhead", "dynamic": False}
        self._step = torch.compile(self._forward, **options) if self.compile_step else None

    @property
    def rules(self) -> RowRules:
        """What ends a row and what closes reasoning (eos_ids can be changed, e.g. by the warm-up)."""
        return RowRules(frozenset(self.eos_ids), self._close_ids)

    # --- model calls -------------------------------------------------------------------------------------

    def _forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor, cache) -> torch.Tensor:
        """Run the model on new tokens at the given positions; return logits for every new token."""
        out = self.model(
            input_ids=input_ids,
            position_ids=position_ids,
            cache=cache,
            use_cache=True,
            logits_to_keep=input_ids.shape[1],
        )
        return out.logits

    @torch.no_grad()
    def prefill(self, prompt: torch.Tensor, cache) -> torch.Tensor:
        """Fill the cache with the prompt (rows, length); return next-token logits (rows, vocab), eagerly."""
        positions = torch.arange(prompt.shape[1], device=self.device).unsqueeze(0).expand(prompt.shape[0], -1)
        out = self.model(
            input_ids=prompt, position_ids=positions, cache=cache, use_cache=True, logits_to_keep=1
        )
        return out.logits[:, -1, :].float()

    @torch.no_grad()
    def decode_tokens(self, tokens: torch.Tensor, position: int, cache) -> torch.Tensor:
        """Feed tokens (rows, k) starting at `position`; return their logits (rows, k, vocab) in float32."""
        positions = torch.arange(position, position + tokens.shape[1], device=self.device)
        positions = positions.unsqueeze(0).expand(tokens.shape[0], -1)
        if self._step is None:
            return self._forward(tokens, positions, cache).float()
        torch.compiler.cudagraph_mark_step_begin()
        # A copy: CUDA-graph outputs are overwritten by the next replay.
        return self._step(tokens, positions, cache).to(torch.float32, copy=True)

    # --- the KV cache pool --------------------------------------------------------------------------------

    def take_cache(self, rows: int, length: int) -> tuple[int, object]:
        """Take (its length, a KV cache) for `rows` sequences of up to `length` tokens: the pool's one for that batch size
        (reset) when it is long enough, else a new static one sized to a bucket (dynamic off CUDA).

        Sized to buckets, caches keep their shapes from job to job, so the compiled decode step is reused.
        """
        from transformers import DynamicCache, StaticCache

        if not self.static_cache:
            return length, DynamicCache(config=self.model.config)
        kept = self._caches.pop(rows, None)
        if kept is not None and kept[0] >= length:
            kept[1].reset()
            return kept
        if kept is not None:
            del kept
            self._free_device_memory()
        size = bucket_length(length)
        return size, StaticCache(config=self.model.config, max_cache_len=size)

    def keep_cache(self, rows: int, length: int, cache) -> None:
        """Put a static cache a session is done with back into the pool (the longer one when two compete)."""
        if not self.static_cache:
            return
        kept = self._caches.pop(rows, None)
        if kept is not None and kept[0] > length:
            length, cache = kept
        while len(self._caches) >= MAX_KEPT_CACHES:
            self._caches.pop(next(iter(self._caches)))
        self._caches[rows] = (length, cache)

    def kept_cache(self, rows: int):
        """The pool's cache for a batch size, or None."""
        kept = self._caches.get(rows)
        return kept[1] if kept is not None else None

    def cache_lengths(self) -> dict[int, int]:
        """The pooled static caches: batch size -> cache length."""
        return {rows: kept[0] for rows, kept in self._caches.items()}

    def release(self) -> None:
        """Drop the pooled static caches (after out-of-memory, before a reload, on close)."""
        self._caches.clear()
        self._free_device_memory()

    def _free_device_memory(self) -> None:
        """Return cached accelerator memory to the driver."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    # --- sessions ------------------------------------------------------------------------------------------

    def start(
        self, prompt_ids: list[int], n: int, options: DecodeOptions, reserve_tokens: int = 0
    ) -> DecodeSession:
        """A session generating `n` continuations of one prompt together; `reserve_tokens` sizes the KV cache
        for at least that many tokens (the warm-up uses it)."""
        draft_size = options.prompt_lookup_num_tokens if n == 1 else 0
        needed = len(prompt_ids) + options.max_new_tokens + draft_size + 1
        return DecodeSession(self, prompt_ids, n, options, self.take_cache(n, max(needed, reserve_tokens)))

    def generate(
        self,
        prompt_ids: list[int],
        n: int,
        options: DecodeOptions,
        on_token: OnText | None = None,
        on_finish: OnCandidate | None = None,
        should_stop: ShouldStop | None = None,
        reserve_tokens: int = 0,
    ) -> DecodeResult:
        """Run a session to its end on this thread (callbacks between steps: see `base.drive`)."""
        session = self.start(prompt_ids, n, options, reserve_tokens)

        def accept(index: int, text: str) -> bool:
            if on_finish is None or not on_finish(index, text):
                return False
            session.winner = index
            return True

        return drive(session, on_token, should_stop, accept if on_finish else None)

    @torch.no_grad()
    def warm_up(self, batch_sizes: Sequence[int], length: int, report: Callable[[str], None]) -> None:
        """Compile and record the decode step for each batch size at the given cache length (CUDA graphs)."""
        options = DecodeOptions(max_new_tokens=4)
        eos_ids, self.eos_ids = self.eos_ids, set()  # every warm-up step must run
        try:
            for rows in batch_sizes:
                report(f"warming up the decode step for {rows} candidate(s)")
                self.generate([self.pad_id] * 8, rows, options, reserve_tokens=length)
        finally:
            self.eos_ids = eos_ids


def copy_to_host(tokens: torch.Tensor):
    """Start copying tokens to the host; return (host tensor, CUDA event to wait on, or None)."""
    if tokens.device.type != "cuda":
        return tokens, None
    on_host = tokens.to("cpu", non_blocking=True)
    copied = torch.cuda.Event()
    copied.record()
    return on_host, copied


def eos_token_ids(model, tokenizer) -> set[int]:
    """Every token id that ends a sequence: the tokenizer's and the generation config's."""
    ids: set[int] = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(int(i) for i in configured)
    return ids


def kv_cache_bytes(config, rows: int, length: int, dtype_bytes: int) -> int:
    """Bytes of a KV cache for `rows` sequences of `length` tokens of a decoder-only transformer config."""
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return 2 * config.num_hidden_layers * kv_heads * head_dim * rows * length * dtype_bytes
