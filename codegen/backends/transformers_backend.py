"""The in-process backend: a Hugging Face causal LM through PyTorch + transformers.

Decoding goes through `codegen.backends.decode.FastDecoder` (static cache + CUDA graphs on CUDA, an eager loop
with a dynamic cache on CPU); on MPS, or when `ModelConfig.decoder == "generate"`, through `model.generate`
(`PlainSession`). Both are sessions the engine steps, and both end rows, stream text and spend the thinking
budget through the same `decode.advance_rows`.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from codegen.backends.base import (
    BackendError,
    BlockingCalls,
    GenerationParams,
    ModelConfig,
    Step,
    is_out_of_memory,
)

GIB = 1024**3
# Fraction of free GPU memory the weights or the KV cache may plan to use (the rest: activations, logits).
MEMORY_MARGIN = 0.85


def pick_device(requested: str = "auto") -> str:
    """Return the device to run on: the requested one, or cuda, then mps, then cpu."""
    import torch

    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(requested: str, device: str):
    """Return the torch dtype: bf16 on CUDA (fp16 where bf16 is unsupported), fp16 on MPS, fp32 on CPU."""
    import torch

    if requested != "auto":
        return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[requested]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def is_offline() -> bool:
    """Whether Hugging Face offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    if any(flag.strip().lower() in ("1", "true", "yes", "on") for flag in flags):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


def estimate_weight_bytes(hf_config, bytes_per_weight: float) -> int:
    """Approximate size of a decoder-only transformer's weights from its config."""
    hidden = hf_config.hidden_size
    heads = hf_config.num_attention_heads
    kv_heads = getattr(hf_config, "num_key_value_heads", None) or heads
    head_dim = getattr(hf_config, "head_dim", None) or hidden // heads
    attention = 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim
    mlp = 3 * hidden * hf_config.intermediate_size
    embeddings = (
        hf_config.vocab_size * hidden * (1 if getattr(hf_config, "tie_word_embeddings", False) else 2)
    )
    return int((hf_config.num_hidden_layers * (attention + mlp) + embeddings) * bytes_per_weight)


def check_weights_fit(name: str, weight_bytes: int, free_bytes: int) -> None:
    """Raise a BackendError when the GPU's free memory cannot hold the weights."""
    if weight_bytes <= free_bytes * MEMORY_MARGIN:
        return
    raise BackendError(
        f"The GPU has {free_bytes / GIB:.1f} GiB free but {name!r} needs about {weight_bytes / GIB:.1f} GiB "
        "for its weights; set `model.quantization` to 8bit or 4bit, free the GPU, or set `model.device` to cpu."
    )


def candidates_that_fit(n: int, free_bytes: int, bytes_per_candidate: int) -> int:
    """How many of `n` candidates' KV caches fit in the free memory (0 when not even one does)."""
    if bytes_per_candidate <= 0:
        return n
    return max(0, min(n, int(free_bytes * MEMORY_MARGIN // bytes_per_candidate)))


def quantization_config(kind: str, device: str):
    """The bitsandbytes config for an 8-bit or 4-bit load, or None; BackendError when it cannot be done."""
    if kind in ("", "none"):
        return None
    if kind not in ("8bit", "4bit"):
        raise BackendError(f"Unknown `model.quantization` {kind!r}; use none, 8bit or 4bit.")
    if not device.startswith("cuda"):
        raise BackendError(
            f"{kind} quantization needs a CUDA GPU; set `model.quantization` to none on {device}."
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise BackendError(
            f"{kind} quantization needs the bitsandbytes package; install it with "
            "`pip install 'vibethinker-lsp[quant]'` or set `model.quantization` to none."
        )
    import torch
    from transformers import BitsAndBytesConfig

    if kind == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_quant_type="nf4"
    )


def model_source(name: str) -> tuple[str, bool]:
    """Return (what to pass to from_pretrained, whether it is a local folder); BackendError for a bad folder."""
    local = Path(name).expanduser()
    is_local = local.exists() or name.startswith((".", "/", "~"))
    if not is_local:
        return name, False
    if not local.is_dir():
        raise BackendError(
            f"The model folder {local} does not exist; set `model.name` to a folder with config.json "
            "or to a Hugging Face model id."
        )
    if not (local / "config.json").is_file():
        raise BackendError(
            f"The model folder {local} has no config.json; point `model.name` at the folder of a saved model."
        )
    return str(local), True


def load_error(name: str, is_local: bool, exc: Exception) -> BackendError:
    """Turn a loading failure into one sentence that says what to do."""
    first_line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
    if is_local:
        return BackendError(
            f"Cannot load the model from {name} ({exc.__class__.__name__}: {first_line}); "
            "the files may be incomplete or corrupt: save or download the model again."
        )
    if isinstance(exc, OSError):
        from huggingface_hub.constants import HF_HUB_CACHE

        how = "offline mode is on (HF_HUB_OFFLINE)" if is_offline() else "it could not be downloaded"
        return BackendError(
            f"Model weights for {name!r} were not found in the Hugging Face cache ({HF_HUB_CACHE}) and {how}; "
            f"run `vibethinker-lsp download {name}` where there is internet, or set `model.name` to a local folder."
        )
    return BackendError(
        f"The weights of {name!r} could not be read ({exc.__class__.__name__}: {first_line}); "
        f"delete them from the Hugging Face cache and run `vibethinker-lsp download {name}` again."
    )


def load_model(config: ModelConfig):
    """Load tokenizer and model from a local folder or the Hugging Face cache/hub; return (tokenizer, model, device).

    Raises BackendError with one sentence saying where it looked and what to do.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    source, is_local = model_source(config.name)
    device = pick_device(config.device)
    dtype = pick_dtype(config.dtype, device)
    quantization = quantization_config(config.quantization, device)
    hub = {"local_files_only": True} if is_offline() and not is_local else {}
    try:
        hf_config = AutoConfig.from_pretrained(source, **hub)
        if device.startswith("cuda"):
            per_weight = {"8bit": 1.0, "4bit": 0.55}.get(config.quantization, torch.finfo(dtype).bits / 8)
            free, _ = torch.cuda.mem_get_info(torch.device(device))
            check_weights_fit(config.name, estimate_weight_bytes(hf_config, per_weight), free)
        tokenizer = AutoTokenizer.from_pretrained(source, **hub)
        kwargs = {"dtype": dtype, "attn_implementation": "sdpa"}
        if quantization is not None:
            kwargs.update(quantization_config=quantization, device_map={"": torch.device(device).index or 0})
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs, **hub)
    except BackendError:
        raise
    except Exception as exc:  # noqa: BLE001 - missing files, corrupt safetensors, bad configs: one sentence each
        raise load_error(config.name, is_local, exc) from exc
    if quantization is None:
        model.to(device)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model, device


class TransformersBackend(BlockingCalls):
    """Runs the model in this process; one generation at a time (the engine serialises calls)."""

    def __init__(self, config: ModelConfig) -> None:
        from codegen.backends.decode import FastDecoder

        self.config = config
        self.name = config.name
        self.tokenizer, self.model, self.device = load_model(config)
        self.use_fast = config.decoder == "fast" or (config.decoder == "auto" and self.device != "mps")
        on_cuda = self.device.startswith("cuda")
        self.decoder = FastDecoder(
            self.model,
            self.tokenizer,
            static_cache=on_cuda,
            compile_step=on_cuda and config.compile and config.quantization in ("", "none"),
        )
        self.adapter: str | None = None  # the LoRA adapter in use (merged into the weights)
        self.adapter_error: str | None = None  # why the configured adapter is not in use
        self._adapters = None
        if config.adapter:
            try:
                self.set_adapter(config.adapter)
            except BackendError as exc:
                self.adapter_error = str(exc)
        # The model's ~400,000 Python objects leave the collector's view: the full collection after each
        # job on a CPU (see Replies.close) then takes ~0 ms instead of ~0.4 s that would block the server.
        gc.collect()
        gc.freeze()

    def set_adapter(self, name: str) -> None:
        """Use LoRA adapter `name` ('' for none) without reloading the base weights.

        The adapter is merged into the weights in place (the decoder and its compiled step keep working); on
        BackendError (one sentence naming the adapter) the base model is in use."""
        if self._adapters is None and not name:
            return
        if self._adapters is None:
            if importlib.util.find_spec("peft") is None:
                raise BackendError(
                    f"The adapter {name!r} needs the peft package; install it with "
                    "`pip install 'vibethinker-lsp[train]'`, or set `model.adapter` to an empty string."
                )
            from codegen.adapters import AdapterSlot

            self._adapters = AdapterSlot(
                self.model, self.config.name, merge=self.config.quantization in ("", "none")
            )
        self.adapter = None
        if name:
            self._adapters.apply(name)
        else:
            self._adapters.clear()
        self.adapter = name or None

    def warm_up(self, report: Callable[[str], None]) -> None:
        """Compile and record the decode step at load (CUDA with compile on); fall back to eager on failure."""
        from codegen.backends.decode import FastDecoder

        if not (self.use_fast and self.decoder.compile_step):
            return
        sizes = sorted({1, max(1, self.config.warmup_candidates)})
        try:
            self.decoder.warm_up(sizes, self.config.warmup_tokens, report)
        except Exception as exc:  # noqa: BLE001 - compilation problems must not stop the model from working
            if is_out_of_memory(exc):
                self.decoder.release()
            report(
                f"compiling the decode step failed ({exc.__class__.__name__}); decoding without CUDA graphs"
            )
            self.decoder = FastDecoder(
                self.model, self.tokenizer, static_cache=self.decoder.static_cache, compile_step=False
            )

    def start_chat(self, messages: list[dict[str, str]], params: GenerationParams) -> Replies:
        """Sample up to `params.n` replies in one batch; reasoning past the thinking budget is closed."""
        from codegen.backends.decode import DecodeOptions

        prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_ids = self.tokenizer.encode(prompt, add_special_tokens=False)
        options = DecodeOptions(
            max_new_tokens=params.max_new_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            thinking_budget=params.thinking_budget,
            prompt_lookup_num_tokens=params.prompt_lookup_num_tokens,
            seed=params.seed,
            top_k=params.top_k,
        )
        if not self.use_fast:
            return Replies(self, PlainSession(self, prompt, params.n, options), lambda texts: texts)
        n = self._candidates_for(params.n, len(prompt_ids) + params.max_new_tokens + 1)
        return Replies(self, self.decoder.start(prompt_ids, n, options), lambda texts: texts)

    def start_complete(self, prefix: str, max_new_tokens: int, stop: tuple[str, ...] = ()) -> Replies:
        """Greedy continuation of raw text, streamed; cut at the first stop string."""
        from codegen.backends.decode import DecodeOptions

        options = DecodeOptions(max_new_tokens=max_new_tokens, stop=stop)
        if self.use_fast:
            prompt_ids = self.tokenizer.encode(prefix, add_special_tokens=False)
            session = self.decoder.start(prompt_ids, 1, options)
        else:
            session = PlainSession(self, prefix, 1, options)
        return Replies(self, session, lambda texts: cut_at_stop(texts[0], stop))

    def _candidates_for(self, n: int, tokens: int) -> int:
        """On CUDA, the number of candidates whose KV caches fit in free memory; elsewhere `n`."""
        on_cuda = self.decoder.device.type == "cuda"
        if not on_cuda or not self.decoder.static_cache or self.decoder.cache_lengths().get(n, 0) >= tokens:
            return n
        import torch

        from codegen.backends.decode import bucket_length, kv_cache_bytes

        free, _ = torch.cuda.mem_get_info(self.decoder.device)
        free += torch.cuda.memory_reserved(self.decoder.device) - torch.cuda.memory_allocated(
            self.decoder.device
        )
        dtype_bytes = torch.finfo(self.model.dtype).bits // 8
        per_candidate = kv_cache_bytes(self.model.config, 1, bucket_length(tokens), dtype_bytes)
        per_candidate += 4 * 4 * self.model.config.vocab_size  # float32 logits and sampling buffers
        fit = candidates_that_fit(n, free, per_candidate)
        if fit == 0:
            raise BackendError(
                f"The GPU has {free / GIB:.1f} GiB free, not enough for the cache of one candidate of {tokens} "
                "tokens; lower `generation.maxNewTokens` or free the GPU."
            )
        return fit

    def close(self) -> None:
        """Drop the model and free accelerator memory."""
        import torch

        if getattr(self, "decoder", None) is not None:
            self.decoder.release()
        self.decoder = None
        self.model = None
        self._adapters = None
        gc.unfreeze()  # the model's objects were frozen at load: let the collector free them now
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """Cut the text at the earliest stop string."""
    cuts = [text.index(s) for s in stop if s and s in text]
    return text[: min(cuts)] if cuts else text


class Replies:
    """A decoding session as the engine sees it: its result is the replies (or the cut continuation), its
    caches are dropped after out-of-memory, and memory is collected when it closes (off CUDA)."""

    def __init__(self, backend: TransformersBackend, session, convert: Callable[[list[str]], object]) -> None:
        """Wrap a `DecodeSession` or a `PlainSession`; `convert` turns the texts into the result."""
        self.backend = backend
        self.session = session
        self.convert = convert

    @property
    def done(self) -> bool:
        """Whether the session ended."""
        return self.session.done

    def step(self) -> Step:
        """One step of the session; after out-of-memory, drop the decoder's caches before passing it on."""
        try:
            return self.session.step()
        except Exception as exc:
            if is_out_of_memory(exc):
                self.session.close()
                self.backend.decoder.release()
            raise

    def stop(self, reason: str = "cancelled") -> None:
        """End the session early."""
        self.session.stop(reason)

    def result(self):
        """The converted texts."""
        return self.convert([row.stream.text for row in self.session.rows])

    def close(self) -> None:
        """Close the session; off CUDA, collect the dynamic cache's memory."""
        self.session.close()
        decoder = self.backend.decoder
        if decoder is not None and not decoder.static_cache:
            gc.collect()


class PlainSession:
    """`model.generate` (MPS, or `model.decoder` generate) as a session: generate runs on its own thread in
    lock-step with `step()`. After each token its stopping criterion takes the new tokens through
    `decode.advance_rows`, hands the step over and waits for the next `step()`; a logits processor applies the
    forced tokens. The model never runs while the caller does something else (another session, between steps).
    Candidates are offered together at the end, in order (generate runs the batch to its end)."""

    def __init__(self, backend: TransformersBackend, prompt: str, n: int, options) -> None:
        """Prepare the batch; generate starts on the first step."""
        from codegen.backends.decode import Row, TextStream

        self.backend = backend
        self.prompt = prompt
        self.options = options
        self.rows = [Row(TextStream(backend.tokenizer)) for _ in range(n)]
        self.rules = backend.decoder.rules
        self._handoff: queue.Queue = queue.Queue()
        self._go = threading.Semaphore(0)
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._generated = 0
        self._offered = False

    @property
    def done(self) -> bool:
        """Whether every row ended (or the session was stopped)."""
        return self._stopped or all(row.reason for row in self.rows)

    def step(self) -> Step:
        """Let generate make one more token, and return what it settled."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._generate, name="vibethinker-generate", daemon=True)
            self._thread.start()
        self._go.release()
        item = self._handoff.get()
        if isinstance(item, BaseException):
            self._stopped = True
            raise item
        if item is None:  # generate ended by itself
            for row in self.rows:
                row.reason = row.reason or "eos"
            item = Step()
        if self.done and not self._offered:
            self._offered = True
            item.finished = [(i, row.stream.text) for i, row in enumerate(self.rows)]
        return item

    def stop(self, reason: str = "cancelled") -> None:
        """End the rows still running; generate stops at its next criterion check."""
        from codegen.backends.decode import stop_rows

        self._stopped = True
        stop_rows(self.rows, reason)
        self._go.release()

    def close(self) -> None:
        """Stop generate if it still runs."""
        if not self.done:
            self.stop()

    def _generate(self) -> None:
        """The generate thread: wait for the first step, run generate, report its end or its error."""
        self._go.acquire()
        try:
            self._run_generate()
            self._handoff.put(None)
        except BaseException as exc:  # noqa: BLE001 - the caller's step raises it
            self._handoff.put(exc)

    def _run_generate(self) -> None:
        """Run `model.generate` with sampling settings, the step hand-off and the forced tokens."""
        import torch
        from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

        from codegen.backends.decode import advance_rows

        backend, session, options = self.backend, self, self.options
        tokenizer = backend.tokenizer
        enc = tokenizer([self.prompt] * len(self.rows), return_tensors="pt", add_special_tokens=False)
        enc = enc.to(backend.device)
        prompt_len = enc["input_ids"].shape[1]

        class HandOff(StoppingCriteria):
            """After each token: advance the rows, hand the step over, wait for the next step() call."""

            def __call__(self, input_ids, scores, **kwargs):
                """Called by generate after every step (several tokens at once with prompt lookup)."""
                new = input_ids[:, prompt_len + session._generated :].tolist()
                step = Step()
                for column in zip(*new, strict=True):
                    session._generated += 1
                    step.extend(
                        advance_rows(session.rows, column, session._generated, options, session.rules)
                    )
                if not session.done:
                    session._handoff.put(step)
                    session._go.acquire()
                else:
                    session._handoff.put(step)
                ended = [session._stopped or bool(row.reason) for row in session.rows]
                return torch.tensor(ended, dtype=torch.bool, device=input_ids.device)

        class Forced(LogitsProcessor):
            """Makes a row's pending forced token (the thinking budget) the only possible one."""

            def __call__(self, input_ids, scores):
                """Called by generate before every token."""
                for i, row in enumerate(session.rows):
                    if row.forced and not row.reason:
                        token = row.forced.popleft()
                        scores[i, :] = float("-inf")
                        scores[i, token] = 0.0
                return scores

        sample = options.temperature > 0
        kwargs = dict(
            max_new_tokens=options.max_new_tokens,
            do_sample=sample,
            pad_token_id=tokenizer.pad_token_id,
            stopping_criteria=StoppingCriteriaList([HandOff()]),
            logits_processor=LogitsProcessorList([Forced()]),
        )
        if sample:
            kwargs.update(temperature=options.temperature, top_p=options.top_p, top_k=options.top_k)  # 0: off
        if options.prompt_lookup_num_tokens and len(self.rows) == 1:
            kwargs.update(prompt_lookup_num_tokens=options.prompt_lookup_num_tokens)
        if options.seed is not None:
            torch.manual_seed(options.seed)
        with torch.no_grad():
            backend.model.generate(**enc, **kwargs)
