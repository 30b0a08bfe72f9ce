"""Decoding speed of the engine against plain `model.generate`, on a random model of VibeThinker's shape.

Weights do not change the speed, so the model is randomly initialised (Qwen2, tied embeddings, vocab 151936;
`--arch 1.5b`: 28 layers, hidden 1536, 12 heads, 2 KV heads, intermediate 8960; `--arch 3b`: 36 layers, hidden
2048, 16 heads, 2 KV heads, intermediate 11008) and every run is forced to a fixed number of new tokens.
Prints, side by side: tokens/s of `model.generate` at batch 1, of the engine's decode loop at batch 1 and at N = 4 and 8 (total over the batch), the fraction of the memory-bandwidth roofline (weight + KV-cache bytes
per step over the measured device-to-device copy bandwidth), time to first token for a 1,000-token prompt, and
peak memory; medians of several runs. Meaningful on a GPU; `--tiny` smoke-runs it on a CPU in seconds.

    python bench/decode.py            # the real architecture (needs a GPU to be quick)
    python bench/decode.py --arch 3b  # VibeThinker-3B's architecture (~6.2 GB of bf16 weights read a token)
    python bench/decode.py --tiny     # CI (also --arch 3b --tiny)
    python bench/decode.py --json     # one JSON object for the record
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codegen.backends.decode import DecodeOptions, FastDecoder, kv_cache_bytes  # noqa: E402
from codegen.models import VIBETHINKER_1_5B, VIBETHINKER_3B  # noqa: E402
from devtools.tiny_model import TINY_1_5B_SHAPE, TINY_3B_SHAPE, random_qwen2  # noqa: E402


def real_shape(family) -> dict:
    """Qwen2Config keywords of a family's real architecture (embedding tying is chosen by --untied)."""
    shape = family.architecture.config_kwargs()
    shape.pop("tie_word_embeddings")
    return shape


REAL = real_shape(VIBETHINKER_1_5B)  # 28 layers, hidden 1536, 12 heads, 2 KV heads, intermediate 8960
TINY = dict(TINY_1_5B_SHAPE, vocab_size=2048)  # the tests' tiny twins, with a larger vocabulary
# --arch: the real shapes, and tiny twins keeping the 3B's ratios (more layers, 8 query heads per KV head).
ARCHS = {
    "1.5b": (VIBETHINKER_1_5B.short_name, REAL, TINY),
    "3b": (
        VIBETHINKER_3B.short_name,
        real_shape(VIBETHINKER_3B),  # 36 layers, hidden 2048, 16 heads, 2 KV heads, intermediate 11008
        dict(TINY_3B_SHAPE, vocab_size=2048),
    ),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--arch", choices=sorted(ARCHS), default="1.5b", help="VibeThinker-1.5B's or VibeThinker-3B's shape"
    )
    parser.add_argument("--tiny", action="store_true", help="a tiny model (CI smoke run)")
    parser.add_argument("--untied", action="store_true", help="separate input and output embeddings")
    parser.add_argument("--new-tokens", type=int, default=None, help="tokens generated per sequence")
    parser.add_argument("--prompt-tokens", type=int, default=64, help="prompt length for the throughput runs")
    parser.add_argument(
        "--ttft-prompt-tokens", type=int, default=1000, help="prompt length for first-token time"
    )
    parser.add_argument("--batches", type=int, nargs="+", default=[4, 8], help="best-of-N batch sizes")
    parser.add_argument("--repeats", type=int, default=None, help="runs per measurement (median reported)")
    parser.add_argument("--device", default="auto", help="auto, cuda, cpu")
    parser.add_argument("--no-compile", action="store_true", help="do not compile the decode step on CUDA")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.new_tokens is None:
        args.new_tokens = 32 if args.tiny else 256
    if args.repeats is None:
        args.repeats = 3 if args.tiny or args.device == "cuda" else 1
    return args


class NumberTokenizer:
    """A stand-in tokenizer over the whole vocabulary (the decode loop only needs ids <-> text)."""

    def __init__(self, vocab_size: int) -> None:
        self.vocab_size = vocab_size
        self.eos_token_id = vocab_size - 1
        self.pad_token_id = vocab_size - 2

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        """Each id as a short word."""
        return "".join(f" t{int(i)}" for i in ids)

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """The inverse of decode for its own words."""
        return [int(word[1:]) for word in text.split() if word.startswith("t") and word[1:].isdigit()]


def build_model(args: argparse.Namespace):
    """A randomly initialised Qwen2 of the chosen shape on the device, in bf16 on CUDA and fp32 on CPU."""
    _, real, tiny = ARCHS[args.arch]
    shape = tiny if args.tiny else real
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    model = random_qwen2(shape, not args.untied, device=args.device, attn_implementation="sdpa").to(dtype)
    model.eval()
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = shape["vocab_size"] - 2
    return model, NumberTokenizer(shape["vocab_size"])


def synchronize(device: str) -> None:
    """Wait for queued GPU work."""
    if device == "cuda":
        torch.cuda.synchronize()


def copy_bandwidth(device: str, megabytes: int = 1024) -> float:
    """Measured device-to-device copy bandwidth in bytes/s (read + write), median of five copies."""
    size = megabytes * 2**20 if device == "cuda" else 64 * 2**20
    source = torch.empty(size, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    target.copy_(source)
    times = []
    for _ in range(5):
        synchronize(device)
        start = time.perf_counter()
        target.copy_(source)
        synchronize(device)
        times.append(time.perf_counter() - start)
    return 2 * size / statistics.median(times)


def weight_bytes(model) -> int:
    """Bytes of all parameters (tied embeddings counted once)."""
    seen, total = set(), 0
    for parameter in model.parameters():
        if parameter.data_ptr() not in seen:
            seen.add(parameter.data_ptr())
            total += parameter.numel() * parameter.element_size()
    return total


def reset_peak(device: str) -> None:
    """Start a new peak-memory window."""
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def peak_gib(device: str) -> float:
    """Peak GPU memory allocated in the window, or the process's peak resident memory on CPU, in GiB."""
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kilobytes on Linux


def timed(fn, device: str) -> float:
    """Seconds one call takes, GPU work included."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def random_prompt(length: int, vocab_size: int, seed: int) -> list[int]:
    """Random token ids (not the special ones)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab_size - 2, (length,), generator=generator).tolist()


def run_generate(model, prompt_ids: list[int], args) -> float:
    """Seconds for plain `model.generate` to sample `new_tokens` at batch 1."""
    inputs = torch.tensor([prompt_ids], device=args.device)

    def call():
        out = model.generate(
            inputs,
            attention_mask=torch.ones_like(inputs),
            max_new_tokens=args.new_tokens,
            min_new_tokens=args.new_tokens,
            do_sample=True,
            temperature=0.6,
            top_p=0.95,
        )
        assert out.shape[1] == len(prompt_ids) + args.new_tokens

    return timed(call, args.device)


def run_engine(decoder: FastDecoder, prompt_ids: list[int], n: int, args) -> float:
    """Seconds for the engine's decode loop to sample `new_tokens` for each of `n` sequences."""
    options = DecodeOptions(max_new_tokens=args.new_tokens, temperature=0.6, top_p=0.95, seed=0)

    def call():
        result = decoder.generate(prompt_ids, n, options)
        assert all(len(ids) == args.new_tokens for ids in result.token_ids)

    return timed(call, args.device)


def run_first_token(decoder: FastDecoder, prompt_ids: list[int], args) -> float:
    """Seconds from the call to the first streamed token for one long prompt."""
    options = DecodeOptions(max_new_tokens=1, temperature=0.6, top_p=0.95, seed=0)
    first: list[float] = []
    start = time.perf_counter()
    decoder.generate(prompt_ids, 1, options, on_token=lambda i, text: first.append(time.perf_counter()))
    synchronize(args.device)
    return first[0] - start


def measure(name: str, batch: int, run, args, bytes_per_step: int | None, bandwidth: float) -> dict:
    """Warm up once, then the median of `repeats` timed runs, as a result row."""
    run()  # compile, allocate, fill caches
    reset_peak(args.device)
    seconds = [run() for _ in range(args.repeats)]
    median = statistics.median(seconds)
    tokens_per_s = batch * args.new_tokens / median
    row = {
        "name": name,
        "batch": batch,
        "tokens_per_s": round(tokens_per_s, 1),
        "per_sequence_tokens_per_s": round(tokens_per_s / batch, 1),
        "seconds": [round(s, 4) for s in seconds],
        "peak_memory_gib": round(peak_gib(args.device), 3),
    }
    if bytes_per_step:
        roofline = batch * bandwidth / bytes_per_step
        row["roofline_tokens_per_s"] = round(roofline, 1)
        row["roofline_fraction"] = round(tokens_per_s / roofline, 3)
    return row


def step_bytes(model, decoder: FastDecoder, batch: int) -> int:
    """Bytes one decode step reads: all weights, plus the batch's whole static KV cache (or the used part)."""
    dtype_bytes = next(model.parameters()).element_size()
    length = decoder.cache_lengths().get(batch)
    if length is None:  # dynamic cache: on average half of prompt + new tokens is in it
        return weight_bytes(model)
    return weight_bytes(model) + kv_cache_bytes(model.config, batch, length, dtype_bytes)


def run_benchmark(args: argparse.Namespace) -> dict:
    """All measurements; returns the record."""
    model, tokenizer = build_model(args)
    on_cuda = args.device == "cuda"
    decoder = FastDecoder(
        model, tokenizer, static_cache=on_cuda, compile_step=on_cuda and not args.no_compile
    )
    decoder.eos_ids = set()  # a fixed number of new tokens
    vocab = model.config.vocab_size
    prompt = random_prompt(args.prompt_tokens, vocab, seed=1)
    bandwidth = copy_bandwidth(args.device)
    rows = []
    weights = weight_bytes(model)
    rows.append(
        measure("model.generate", 1, lambda: run_generate(model, prompt, args), args, weights, bandwidth)
    )
    compile_started = time.perf_counter()
    run_engine(decoder, prompt, 1, args)
    compile_seconds = time.perf_counter() - compile_started
    for batch in [1, *args.batches]:
        rows.append(
            measure(
                "engine",
                batch,
                lambda batch=batch: run_engine(decoder, prompt, batch, args),
                args,
                step_bytes(model, decoder, batch),
                bandwidth,
            )
        )
    long_prompt = random_prompt(args.ttft_prompt_tokens, vocab, seed=2)
    run_first_token(decoder, long_prompt, args)
    first_token = [run_first_token(decoder, long_prompt, args) for _ in range(args.repeats)]
    engine_1 = next(r for r in rows if r["name"] == "engine" and r["batch"] == 1)
    merged = measure_merged_adapter(model, decoder, prompt, args, step_bytes(model, decoder, 1), bandwidth)
    if merged is not None:
        rows.append(merged)
    adapter_ratio = round(merged["tokens_per_s"] / engine_1["tokens_per_s"], 2) if merged else None
    baseline = rows[0]["tokens_per_s"]
    return {
        "date": time.strftime("%Y-%m-%d"),
        "device": torch.cuda.get_device_name() if on_cuda else platform.processor() or "cpu",
        "model": f"{ARCHS[args.arch][0]} shape ({'tiny twin' if args.tiny else 'random weights'})",
        "arch": args.arch,
        "tied_embeddings": not args.untied,
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "compiled": decoder.compile_step,
        "new_tokens": args.new_tokens,
        "prompt_tokens": args.prompt_tokens,
        "repeats": args.repeats,
        "weight_bytes": weights,
        "copy_bandwidth_gb_s": round(bandwidth / 1e9, 1),
        "first_call_seconds": round(compile_seconds, 2),
        "peak_memory": "CUDA max allocated" if on_cuda else "process max resident (CPU)",
        "rows": rows,
        "engine_vs_generate": round(engine_1["tokens_per_s"] / baseline, 2),
        "best_of_n_vs_batch_1": {
            str(r["batch"]): round(r["tokens_per_s"] / engine_1["tokens_per_s"], 2)
            for r in rows
            if r["name"] == "engine" and r["batch"] > 1
        },
        "time_to_first_token_ms": round(1000 * statistics.median(first_token), 1),
        # batch-1 speed with a rank-8 q/v LoRA adapter merged into the weights, over the base's (same run)
        "merged_adapter_vs_base": adapter_ratio,
        "ttft_prompt_tokens": args.ttft_prompt_tokens,
    }


def write_random_adapter(model, folder: Path, rank: int = 8, targets=("q_proj", "v_proj")) -> Path:
    """A LoRA adapter with random weights, written the way peft saves one (the model itself is not touched)."""
    from peft import LoraConfig
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(3)
    tensors = {}
    for name, module in model.named_modules():
        if name.rsplit(".", 1)[-1] in targets:
            key = f"base_model.model.{name}"
            a = torch.randn(rank, module.in_features, generator=generator)
            b = torch.randn(module.out_features, rank, generator=generator)
            tensors[f"{key}.lora_A.weight"], tensors[f"{key}.lora_B.weight"] = a / 100, b / 100
    config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=list(targets), task_type="CAUSAL_LM")
    config.save_pretrained(str(folder))
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    return folder


def measure_merged_adapter(
    model, decoder: FastDecoder, prompt, args, bytes_per_step, bandwidth
) -> dict | None:
    """Merge a random adapter into the weights in place (as `model.adapter` does) and time batch 1 again with
    the same decoder (its compiled step keeps its CUDA graphs); None without peft."""
    import importlib.util
    import tempfile

    if importlib.util.find_spec("peft") is None:
        return None
    from codegen.adapters import AdapterSlot

    slot = AdapterSlot(model, "bench", merge=True)
    with tempfile.TemporaryDirectory() as folder:
        slot.apply(str(write_random_adapter(model, Path(folder))))
    row = measure(
        "engine + LoRA", 1, lambda: run_engine(decoder, prompt, 1, args), args, bytes_per_step, bandwidth
    )
    slot.clear()
    return row


def print_table(record: dict) -> None:
    """A readable table of the record."""
    print(
        f"{record['model']} on {record['device']} ({record['dtype']}, compiled={record['compiled']}), "
        f"{record['new_tokens']} new tokens, median of {record['repeats']}; "
        f"weights {record['weight_bytes'] / 1e9:.3g} GB; copy bandwidth {record['copy_bandwidth_gb_s']} GB/s"
    )
    header = f"{'':16} {'batch':>5} {'tokens/s':>10} {'per seq':>9} {'roofline':>9} {'peak GiB':>9}"
    print(header)
    for row in record["rows"]:
        fraction = row.get("roofline_fraction")
        roofline = f"{100 * fraction:.0f}%" if fraction is not None else "-"
        print(
            f"{row['name']:16} {row['batch']:>5} {row['tokens_per_s']:>10.1f} "
            f"{row['per_sequence_tokens_per_s']:>9.1f} {roofline:>9} {row['peak_memory_gib']:>9.2f}"
        )
    ratios = ", ".join(f"N={n}: {x}x" for n, x in record["best_of_n_vs_batch_1"].items())
    print(f"engine vs model.generate at batch 1: {record['engine_vs_generate']}x; total vs batch 1: {ratios}")
    if record.get("merged_adapter_vs_base") is not None:
        ratio = record["merged_adapter_vs_base"]
        print(f"merged LoRA adapter (rank 8, q/v) vs the base model at batch 1: {ratio}x")
    print(
        f"time to first token ({record['ttft_prompt_tokens']}-token prompt): {record['time_to_first_token_ms']} ms; "
        f"first engine call (compile + warm-up): {record['first_call_seconds']} s"
    )


def main(argv: list[str] | None = None) -> int:
    """Run and print."""
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "No CUDA GPU is available; run with --device cpu (and --tiny for a quick run).", file=sys.stderr
        )
        return 2
    record = run_benchmark(args)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print_table(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
