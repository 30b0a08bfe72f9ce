"""Random Qwen2 models built offline: tiny twins of VibeThinker saved like a real checkpoint (with a small BPE
tokenizer) for the tests, and random models of any shape for the decode benchmark."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CORPUS = [
    "def two_sum(nums, target):\n    seen = {}\n    for i, x in enumerate(nums):\n        return [i]\n",
    "<think>Let me think about the problem step by step.</think>\n```python\nprint(1)\n```\n",
    "Complexity: O(n) time, O(1) space. for while if else return yield import from class",
    "#include <bits/stdc++.h>\nint main() { std::cin >> n; std::cout << n << std::endl; }\n",
    "You are an expert competitive programmer. Implement the function. Examples: Input Output",
    "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ ()[]{}<>:;,.=+-*/%!?'\"#\\|&^~`@$_",
]

# The tiny twin of VibeThinker-1.5B (the default shape of build_tiny_model).
TINY_1_5B_SHAPE = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=4096,
)
# The tiny twin of VibeThinker-3B (Qwen2.5-Coder-3B: 36 layers against 28, 8 query heads per KV head against 6,
# MLP 5.4x the hidden size, rope theta 1e6, tied embeddings): more layers and heads than the 1.5B's twin.
TINY_3B_SHAPE = dict(
    TINY_1_5B_SHAPE,
    intermediate_size=344,
    num_hidden_layers=3,
    num_attention_heads=8,
    num_key_value_heads=1,
    rope_theta=1000000.0,
)


def random_qwen2(shape: dict, tie_embeddings: bool = True, seed: int = 0, device: str = "cpu", **config):
    """A randomly initialised Qwen2ForCausalLM of a shape (Qwen2Config keywords, `vocab_size` included), built
    directly on the device; `config` adds further Qwen2Config keywords."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    settings = Qwen2Config(**shape, tie_word_embeddings=tie_embeddings, **config)
    torch.manual_seed(seed)
    with torch.device(device):
        return Qwen2ForCausalLM(settings)


def build_tokenizer(folder: Path, vocab_size: int = 400):
    """Train a byte-level BPE on a small corpus and save it as a fast tokenizer with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS * 20, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    return fast


def build_tiny_model(
    folder: Path, tie_embeddings: bool = True, seed: int = 0, shape: dict | None = None
) -> Path:
    """Save a tiny random Qwen2ForCausalLM (the 1.5B's twin unless `shape` says otherwise) and its tokenizer."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(folder)
    model = random_qwen2(
        dict(shape or TINY_1_5B_SHAPE, vocab_size=len(tokenizer)),
        tie_embeddings,
        seed,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(folder)
    return folder


def build_tiny_3b_model(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random model with VibeThinker-3B's shape ratios (tied embeddings); return the folder.

    Name the folder after the model (e.g. `VibeThinker-3B-tiny`) for its per-model defaults to apply.
    """
    return build_tiny_model(folder, tie_embeddings=True, seed=seed, shape=TINY_3B_SHAPE)
