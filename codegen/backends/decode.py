"""A fast decoding loop over a transformers causal LM, in the gpt-fast style.

One prefill, then one token per step for N sequences in one batch: sampling with temperature and top-p,
streaming per token, a stop check every step, a thinking budget that closes `<think>` by forcing tokens, and
optional prompt-lookup drafts. On CUDA the KV cache is static (sized once per bucketed length, reset between
jobs) and the decode step is compiled with CUDA graphs; elsewhere the same loop runs eagerly on a dynamic cache.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

THINK_END = "</think>"
THINK_CLOSE = "\n</think>\n\n"
# Static KV cache lengths: a job uses the smallest that holds prompt + new tokens, so compiled graphs are reused.
CACHE_BUCKETS = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
MAX_KEPT_CACHES = 3

OnToken = Callable[[int, str], None]
OnFinish = Callable[[int, str], bool]
ShouldStop = Callable[[], bool]


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
    """Turns token ids into text pieces as they come, holding back incomplete UTF-8 characters."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.text = ""
        self._prefix = 0
        self._read = 0

    def _decode(self, start: int, end: int) -> str:
        """Decode a slice of the ids, special tokens included."""
        return self.tokenizer.decode(self.ids[start:end], skip_special_tokens=False)

    def push(self, token_id: int) -> str:
        """Add one token; return the new text it completes (often "", while a character is incomplete)."""
        self.ids.append(token_id)
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
        before = self._decode(self._prefix, self._read)
        after = self._decode(self._prefix, len(self.ids))
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
    prompt_lookup_num_tokens: int = 0
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


class FastDecoder:
    """Decodes with one model; on CUDA it keeps one static KV cache and a compiled decode step."""

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
        self._caches: dict[int, tuple[int, object]] = {}  # rows -> (length, static cache), kept between jobs
        self._busy: set[int] = set()  # ids of caches in use (a job can run inside another's step)
        options = compile_options if explicit else {"mode": "reduce-overhead", "dynamic": False}
        self._step = torch.compile(self._forward, **options) if self.compile_step else None

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

    def new_cache(self, rows: int, length: int):
        """A KV cache for `rows` sequences of up to `length` tokens: a kept static one (reset) when one fits.

        Static caches are kept per batch size (at most MAX_KEPT_CACHES) and sized to a bucket, so the compiled
        decode step, which depends only on the cache's shape, is reused from job to job.
        """
        from transformers import DynamicCache, StaticCache

        if not self.static_cache:
            return DynamicCache(config=self.model.config)
        kept = self._caches.get(rows)
        if kept is not None and id(kept[1]) in self._busy:  # a paused job uses it: a one-off cache
            return StaticCache(config=self.model.config, max_cache_len=bucket_length(length))
        if kept is not None and kept[0] >= length:
            kept[1].reset()
            return kept[1]
        self._caches.pop(rows, None)
        while len(self._caches) >= MAX_KEPT_CACHES:
            self._caches.pop(next(iter(self._caches)))
        self._free_device_memory()
        size = bucket_length(length)
        cache = StaticCache(config=self.model.config, max_cache_len=size)
        self._caches[rows] = (size, cache)
        return cache

    def cache_lengths(self) -> dict[int, int]:
        """The kept static caches: batch size -> cache length."""
        return {rows: kept[0] for rows, kept in self._caches.items()}

    def release(self) -> None:
        """Drop the kept static caches (after out-of-memory, before a reload, on close)."""
        self._caches.clear()
        self._free_device_memory()

    def _free_device_memory(self) -> None:
        """Return cached accelerator memory to the driver."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    # --- the loop ----------------------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        prompt_ids: list[int],
        n: int,
        options: DecodeOptions,
        on_token: OnToken | None = None,
        on_finish: OnFinish | None = None,
        should_stop: ShouldStop | None = None,
        reserve_tokens: int = 0,
    ) -> DecodeResult:
        """Generate `n` continuations of one prompt together; see the module docstring.

        `reserve_tokens` sizes the KV cache for at least that many tokens (the warm-up uses it).
        """
        generator = None
        if options.seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(options.seed)
        draft_size = options.prompt_lookup_num_tokens if n == 1 else 0
        needed = len(prompt_ids) + options.max_new_tokens + draft_size + 1
        cache = self.new_cache(n, max(needed, reserve_tokens))
        self._busy.add(id(cache))
        try:
            return self._run_loop(cache, prompt_ids, n, options, on_token, on_finish, should_stop, generator)
        finally:
            self._busy.discard(id(cache))

    def _run_loop(
        self, cache, prompt_ids, n, options, on_token, on_finish, should_stop, generator
    ) -> DecodeResult:
        """Prefill, then decode step by step until every row ends (see `generate`)."""
        draft_size = options.prompt_lookup_num_tokens if n == 1 else 0
        rows = [Row(TextStream(self.tokenizer)) for _ in range(n)]
        state = {"winner": None, "generated": 0, "passes": 0, "accepted": 0}
        prompt = torch.tensor([prompt_ids] * n, dtype=torch.long, device=self.device)
        logits = self.prefill(prompt, cache)
        if not draft_size:
            loop = (rows, options, state, generator, on_token, on_finish, should_stop)
            self._decode_overlapped(logits, len(prompt_ids), cache, *loop)
            return self._result(rows, state)
        logits = logits.unsqueeze(1)
        history = list(prompt_ids)  # for prompt lookup (n == 1)
        position = len(prompt_ids)
        draft: list[int] = []
        while True:
            accepted, tokens = 0, None
            for j in range(logits.shape[1]):
                tokens = self._choose(logits[:, j, :], rows, options, generator)
                self._advance(rows, tokens, options, state, on_token, on_finish)
                history.append(tokens[0])
                if j >= len(draft) or tokens[0] != draft[j] or self._done(rows, state, should_stop):
                    break
                accepted += 1
            if draft and accepted < len(draft):
                cache.crop(-(len(draft) - accepted))  # forget the rejected draft tokens
            position += accepted
            state["accepted"] += accepted
            if self._done(rows, state, should_stop):
                break
            draft = [] if rows[0].forced else find_draft(history, draft_size)
            feed = torch.tensor([[t] + draft for t in tokens], dtype=torch.long, device=self.device)
            logits = self.decode_tokens(feed, position, cache)
            state["passes"] += 1
            position += 1
        return self._result(rows, state)

    def _decode_overlapped(
        self, logits, position, cache, rows, options, state, generator, on_token, on_finish, should_stop
    ) -> None:
        """One token per step, the next step queued on the device before the host streams this one's text.

        The sampled tokens are copied to the host ahead of the next forward pass, so on CUDA the Python work
        (text, stop checks, callbacks) overlaps the GPU's; forced tokens (the thinking budget) are applied first.
        """
        while True:
            tokens = self._apply_forced(
                sample(logits, options.temperature, options.top_p, generator, options.top_k), rows
            )
            on_host, copied = self._copy_to_host(tokens)
            if state["generated"] + 1 < options.max_new_tokens:
                logits = self.decode_tokens(tokens.unsqueeze(1), position, cache)[:, 0, :]
                state["passes"] += 1
                position += 1
            if copied is not None:
                copied.synchronize()
            self._advance(rows, on_host.tolist(), options, state, on_token, on_finish)
            if self._done(rows, state, should_stop):
                return

    def _apply_forced(self, tokens: torch.Tensor, rows: list[Row]) -> torch.Tensor:
        """Replace sampled tokens by pending forced ones (a few steps per sequence, so a sync is fine there)."""
        if not any(row.forced and not row.reason for row in rows):
            return tokens
        chosen = tokens.tolist()
        for i, row in enumerate(rows):
            if row.forced and not row.reason:
                chosen[i] = row.forced.popleft()
        return torch.tensor(chosen, dtype=tokens.dtype, device=tokens.device)

    def _copy_to_host(self, tokens: torch.Tensor):
        """Start copying tokens to the host; return (host tensor, CUDA event to wait on, or None)."""
        if tokens.device.type != "cuda":
            return tokens, None
        on_host = tokens.to("cpu", non_blocking=True)
        copied = torch.cuda.Event()
        copied.record()
        return on_host, copied

    def _choose(self, logits: torch.Tensor, rows: list[Row], options: DecodeOptions, generator) -> list[int]:
        """Sample one token per row; forced tokens (the thinking budget) and padding for ended rows win."""
        tokens = sample(logits, options.temperature, options.top_p, generator, options.top_k).tolist()
        for i, row in enumerate(rows):
            if row.reason:
                tokens[i] = self.pad_id
            elif row.forced:
                tokens[i] = row.forced.popleft()
        return tokens

    def _advance(self, rows, tokens, options, state, on_token, on_finish) -> None:
        """Append each running row's token: stream it, track thinking, and end rows that finished."""
        state["generated"] += 1
        for i, (row, token) in enumerate(zip(rows, tokens, strict=True)):
            if row.reason:
                continue
            if token in self.eos_ids:
                self._finish(i, row, "eos", state, on_token, on_finish)
                continue
            delta = row.stream.push(token)
            if on_token:
                on_token(i, delta)
            self._track_thinking(row, delta, options)
            if options.stop and any(s in row.stream.text[-(len(s) + len(delta)) :] for s in options.stop):
                self._finish(i, row, "stop", state, on_token, on_finish)
            elif state["generated"] >= options.max_new_tokens:
                self._finish(i, row, "length", state, on_token, on_finish)

    def _track_thinking(self, row: Row, delta: str, options: DecodeOptions) -> None:
        """Count reasoning tokens; when the budget is spent without `</think>`, force the close."""
        if row.thinking_closed:
            return
        if THINK_END in row.stream.text[-(len(THINK_END) + len(delta)) :]:
            row.thinking_closed = True
            return
        row.thinking_tokens += 1
        budget = options.thinking_budget
        if budget and row.thinking_tokens >= budget and not row.forced:
            row.forced.extend(self.tokenizer.encode(THINK_CLOSE, add_special_tokens=False))

    def _finish(self, index: int, row: Row, reason: str, state, on_token, on_finish) -> None:
        """End a row: flush its text and offer it as a candidate; a True answer ends the whole batch."""
        row.reason = reason
        tail = row.stream.flush()
        if tail and on_token:
            on_token(index, tail)
        if state["winner"] is None and on_finish and on_finish(index, row.stream.text):
            state["winner"] = index

    def _done(self, rows: list[Row], state, should_stop: ShouldStop | None) -> bool:
        """Whether the loop ends: every row ended, a winner was found, or the caller asked to stop."""
        if state["winner"] is not None:
            reason = "winner_found"
        elif should_stop is not None and should_stop():
            reason = "cancelled"
        else:
            return all(row.reason for row in rows)
        for row in rows:
            if not row.reason:
                row.reason = reason
                row.stream.flush()
        return True

    def _result(self, rows: list[Row], state) -> DecodeResult:
        """Collect the rows into a result."""
        return DecodeResult(
            texts=[row.stream.text for row in rows],
            token_ids=[list(row.stream.ids) for row in rows],
            reasons=[row.reason for row in rows],
            winner=state["winner"],
            forward_passes=state["passes"],
            accepted_draft_tokens=state["accepted"],
        )

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
