"""The in-process backend: a Hugging Face causal LM through PyTorch + transformers."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from codegen.backends.base import BackendError, GenerationParams, ModelConfig, OnText, ShouldStop

THINK_CLOSE = "\n</think>\n\n"


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


def load_model(config: ModelConfig):
    """Load tokenizer and model from a local folder or the Hugging Face cache/hub.

    Raises BackendError with one sentence saying where it looked and what to do.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name = config.name
    local = Path(name).expanduser()
    is_local = local.exists() or name.startswith((".", "/", "~"))
    if is_local and not local.is_dir():
        raise BackendError(
            f"The model folder {local} does not exist; set `model.name` to a folder with config.json."
        )
    source = str(local) if is_local else name
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    device = pick_device(config.device)
    dtype = pick_dtype(config.dtype, device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    except (OSError, ValueError) as exc:
        if is_local:
            raise BackendError(
                f"Cannot load the model from {local}: {str(exc).splitlines()[0][:200]}; "
                "re-download it with `vibethinker-lsp download`."
            ) from exc
        from huggingface_hub.constants import HF_HUB_CACHE

        how = "offline mode is on (HF_HUB_OFFLINE)" if offline else "it could not be downloaded"
        raise BackendError(
            f"Model weights for {name!r} were not found in the Hugging Face cache ({HF_HUB_CACHE}) and {how}; "
            f"run `vibethinker-lsp download {name}` where there is internet, or set `model.name` to a local folder."
        ) from exc
    except Exception as exc:  # corrupted safetensors and the like
        raise BackendError(
            f"The weights of {name!r} could not be read ({exc.__class__.__name__}: {str(exc)[:160]}); "
            f"delete them and run `vibethinker-lsp download {name}` again."
        ) from exc
    model.to(device)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model, device


class TransformersBackend:
    """Runs the model in this process; one generation at a time (the engine serialises calls)."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.name = config.name
        self.tokenizer, self.model, self.device = load_model(config)
        self._lock = threading.Lock()

    def chat(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
    ) -> list[str]:
        """Sample `params.n` replies; reasoning past the thinking budget is closed and the answer forced."""
        prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        budget = min(params.thinking_budget, params.max_new_tokens)
        texts = self._generate([prompt] * params.n, budget, params, on_text, should_stop)
        out = []
        for i, text in enumerate(texts):
            if "</think>" in text or (should_stop and should_stop()) or self._finished(text):
                out.append(text)
                continue
            rest = params.max_new_tokens - budget
            if rest <= 0:
                out.append(text)
                continue
            if on_text:
                on_text(i, THINK_CLOSE)
            more = self._generate([prompt + text + THINK_CLOSE], rest, params, None, should_stop)[0]
            if on_text and more:
                on_text(i, more)
            out.append(text + THINK_CLOSE + more)
        return [t.replace(self.tokenizer.eos_token or "\0", "") for t in out]

    def complete(
        self,
        prefix: str,
        max_new_tokens: int,
        stop: tuple[str, ...] = (),
        should_stop: ShouldStop | None = None,
    ) -> str:
        """Greedy continuation of raw text; cut at the first stop string."""
        params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0, n=1)
        text = self._generate([prefix], max_new_tokens, params, None, should_stop, stop=stop)[0]
        for s in stop:
            if s in text:
                text = text[: text.index(s)]
        return text

    def _finished(self, text: str) -> bool:
        """Whether a sequence ended by itself (end-of-sequence) rather than by running out of budget."""
        return bool(self.tokenizer.eos_token) and text.endswith(self.tokenizer.eos_token)

    def _generate(self, prompts, max_new_tokens, params, on_text, should_stop, stop=()) -> list[str]:
        """Run `model.generate` with sampling settings, a stop check every step and per-step streaming."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        tokenizer = self.tokenizer
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        prompt_len = enc["input_ids"].shape[1]
        emitted = [0] * len(prompts)

        class _Step(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                new = input_ids[:, prompt_len:]
                if on_text is not None:
                    for i in range(new.shape[0]):
                        text = tokenizer.decode(new[i], skip_special_tokens=False)
                        if len(text) > emitted[i]:
                            on_text(i, text[emitted[i] :])
                            emitted[i] = len(text)
                done = bool(should_stop and should_stop())
                if not done and stop:
                    texts = tokenizer.batch_decode(new, skip_special_tokens=True)
                    done = all(any(s in t for s in stop) for t in texts)
                return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

        sample = params.temperature > 0
        kwargs = dict(
            max_new_tokens=max_new_tokens,
            do_sample=sample,
            pad_token_id=tokenizer.pad_token_id,
            stopping_criteria=StoppingCriteriaList([_Step()]),
        )
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        if params.seed is not None:
            torch.manual_seed(params.seed)
        with self._lock, torch.no_grad():
            out = self.model.generate(**enc, **kwargs)
        return tokenizer.batch_decode(out[:, prompt_len:], skip_special_tokens=False)

    def close(self) -> None:
        """Drop the model and free accelerator memory."""
        import gc

        import torch

        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
