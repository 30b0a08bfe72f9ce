"""The fast decoding loop on CPU: same tokens as model.generate, sampling, budget, lookup, caches."""

from __future__ import annotations

import pytest
import torch

from codegen.backends.decode import (
    CACHE_BUCKETS,
    THINK_CLOSE,
    DecodeOptions,
    FastDecoder,
    TextStream,
    bucket_length,
    find_draft,
    kv_cache_bytes,
    sample,
)
from devtools.tiny_model import build_tiny_model

PROMPT = "def two_sum(nums, target):\n    seen = {}\n    for i, x in enumerate(nums):\n"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """Tiny random Qwen2 models with tied and untied embeddings: {tied: (model, tokenizer)}."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    models = {}
    for tied in (True, False):
        folder = build_tiny_model(tmp_path_factory.mktemp("tiny"), tie_embeddings=tied)
        models[tied] = (
            AutoModelForCausalLM.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder),
        )
    return models


@pytest.fixture(params=[True, False], ids=["tied", "untied"])
def either(request, tiny_models):
    """Each of the two tiny models in turn."""
    return tiny_models[request.param]


@pytest.fixture
def tiny(tiny_models):
    """The tiny model with tied embeddings (as VibeThinker has)."""
    return tiny_models[True]


def reference_greedy(model, tokenizer, prompt_ids: list[int], max_new_tokens: int) -> list[int]:
    """Greedy tokens from the library's own generate."""
    out = model.generate(
        torch.tensor([prompt_ids]),
        max_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    tokens = out[0, len(prompt_ids) :].tolist()
    return tokens[: tokens.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in tokens else tokens


def test_bucket_length_rounds_up_to_shared_buckets():
    assert bucket_length(1) == bucket_length(CACHE_BUCKETS[0]) == CACHE_BUCKETS[0]
    assert bucket_length(600) == bucket_length(1000) == 1024
    assert bucket_length(1025) == 2048
    assert bucket_length(CACHE_BUCKETS[-1] + 1) == 2 * CACHE_BUCKETS[-1]
    assert bucket_length(70, buckets=(64, 128)) == 128


def test_sample_greedy_and_top_p_keeps_only_the_nucleus():
    logits = torch.tensor([[0.0, 5.0, 1.0, 4.9]])
    assert sample(logits, 0.0, 1.0).tolist() == [1]
    generator = torch.Generator().manual_seed(0)
    seen = {sample(logits, 1.0, 0.5, generator).item() for _ in range(200)}
    assert seen <= {1, 3} and 1 in seen
    seen_all = {sample(logits, 1.0, 1.0, generator).item() for _ in range(400)}
    assert {1, 3} <= seen_all and len(seen_all) >= 3


def test_find_draft_copies_what_followed_the_last_ngram():
    history = [5, 6, 7, 8, 9, 1, 5, 6, 7]
    assert find_draft(history, 2) == [8, 9]
    assert find_draft([4] * 7, 3) == [4, 4, 4]  # a run: the match with a full draft after it
    assert find_draft([1, 2, 3], 4) == []
    assert find_draft(history, 0) == []


def test_text_stream_holds_back_split_characters(tiny):
    _, tokenizer = tiny
    ids = tokenizer.encode("naïve ✓ ok", add_special_tokens=False)
    stream = TextStream(tokenizer)
    pieces = [stream.push(i) for i in ids] + [stream.flush()]
    assert "".join(pieces) == "naïve ✓ ok"
    assert all("\ufffd" not in piece for piece in pieces)


@pytest.mark.parametrize("static", [False, True], ids=["dynamic-cache", "static-cache"])
def test_greedy_matches_model_generate(either, static):
    model, tokenizer = either
    prompt_ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    expected = reference_greedy(model, tokenizer, prompt_ids, 48)
    result = FastDecoder(model, tokenizer, static_cache=static).generate(prompt_ids, 1, DecodeOptions(48))
    assert result.token_ids[0] == expected
    assert result.texts[0] == tokenizer.decode(expected)


@pytest.mark.parametrize("static", [False, True], ids=["dynamic-cache", "static-cache"])
def test_prompt_lookup_gives_the_same_tokens_in_fewer_passes(either, static):
    model, tokenizer = either
    # A prompt that repeats itself, so the greedy continuation copies it and drafts get accepted.
    prompt_ids = tokenizer.encode(PROMPT * 3, add_special_tokens=False)
    decoder = FastDecoder(model, tokenizer, static_cache=static)
    plain = decoder.generate(prompt_ids, 1, DecodeOptions(40))
    lookup = decoder.generate(prompt_ids, 1, DecodeOptions(40, prompt_lookup_num_tokens=5))
    assert lookup.token_ids == plain.token_ids
    assert lookup.accepted_draft_tokens > 0
    assert lookup.forward_passes < plain.forward_passes
    assert plain.accepted_draft_tokens == 0


def test_best_of_n_gives_distinct_reproducible_candidates(tiny):
    model, tokenizer = tiny
    prompt_ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    decoder = FastDecoder(model, tokenizer)
    options = DecodeOptions(12, temperature=1.0, top_p=0.95, seed=7)
    first = decoder.generate(prompt_ids, 4, options)
    again = decoder.generate(prompt_ids, 4, options)
    assert len(first.texts) == 4
    assert len(set(first.texts)) == 4
    assert first.texts == again.texts


def test_thinking_budget_closes_reasoning_and_continues(tiny):
    model, tokenizer = tiny
    prompt_ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    decoder = FastDecoder(model, tokenizer)
    decoder.eos_ids = set()  # keep the random model from ending early, so the budget is what acts
    result = decoder.generate(prompt_ids, 2, DecodeOptions(40, temperature=1.0, seed=3, thinking_budget=12))
    close_ids = tokenizer.encode(THINK_CLOSE, add_special_tokens=False)
    for ids, text in zip(result.token_ids, result.texts, strict=True):
        assert ids[12 : 12 + len(close_ids)] == close_ids  # forced right after 12 reasoning tokens
        assert len(ids) == 40  # and the model kept writing its answer after it
        assert "</think>" in text and text.index("</think>") < len(text) - len("</think>\n\n")


def test_no_budget_means_no_forced_close(tiny):
    model, tokenizer = tiny
    prompt_ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    decoder = FastDecoder(model, tokenizer)
    unbudgeted = decoder.generate(prompt_ids, 1, DecodeOptions(30, thinking_budget=0))
    budgeted = decoder.generate(prompt_ids, 1, DecodeOptions(30, thinking_budget=3))
    assert unbudgeted.token_ids[0] == reference_greedy(model, tokenizer, prompt_ids, 30)
    assert "</think>" in budgeted.texts[0] and "</think>" not in unbudgeted.texts[0]


def test_streaming_pieces_add_up_to_the_result(tiny):
    model, tokenizer = tiny
    pieces: dict[int, list[str]] = {0: [], 1: []}
    calls = []
    result = FastDecoder(model, tokenizer).generate(
        tokenizer.encode(PROMPT, add_special_tokens=False),
        2,
        DecodeOptions(20, temperature=1.0, seed=1),
        on_token=lambda i, text: (pieces[i].append(text), calls.append(i)),
    )
    assert ["".join(pieces[i]) for i in (0, 1)] == result.texts
    assert calls.count(0) >= len(result.token_ids[0])


def test_should_stop_ends_generation_mid_way(tiny):
    model, tokenizer = tiny
    decoder = FastDecoder(model, tokenizer)
    decoder.eos_ids = set()
    steps = []
    result = decoder.generate(
        tokenizer.encode(PROMPT, add_special_tokens=False),
        1,
        DecodeOptions(200),
        on_token=lambda i, text: steps.append(text),
        should_stop=lambda: len(steps) >= 5,
    )
    assert result.reasons == ["cancelled"]
    assert len(result.token_ids[0]) == 5


def test_on_finish_true_ends_the_other_candidates(tiny):
    model, tokenizer = tiny
    decoder = FastDecoder(model, tokenizer)
    decoder.eos_ids = set()
    offered = []
    options = DecodeOptions(30, temperature=1.0, seed=2, stop=("e",))
    result = decoder.generate(
        tokenizer.encode(PROMPT, add_special_tokens=False),
        3,
        options,
        on_finish=lambda i, text: offered.append(i) or True,
    )
    assert len(offered) == 1
    assert result.winner == offered[0]
    assert result.reasons[offered[0]] == "stop"
    assert sorted(result.reasons).count("winner_found") == 2


def test_stop_strings_end_a_sequence(tiny):
    model, tokenizer = tiny
    decoder = FastDecoder(model, tokenizer)
    decoder.eos_ids = set()
    prompt_ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    free = decoder.generate(prompt_ids, 1, DecodeOptions(40)).texts[0]
    stop = free[5:7]
    stopped = decoder.generate(prompt_ids, 1, DecodeOptions(40, stop=(stop,)))
    assert stopped.reasons == ["stop"]
    assert stop in stopped.texts[0] and free.startswith(stopped.texts[0])


def test_static_cache_is_kept_per_batch_and_reused_within_a_bucket(tiny):
    model, tokenizer = tiny
    decoder = FastDecoder(model, tokenizer, static_cache=True)
    short = tokenizer.encode("def f", add_special_tokens=False)
    longer = tokenizer.encode(PROMPT, add_special_tokens=False)
    decoder.generate(short, 1, DecodeOptions(10))
    first = decoder.kept_cache(1)
    decoder.generate(longer, 1, DecodeOptions(10))
    assert decoder.kept_cache(1) is first  # same bucket: the same cache, so the same compiled graph
    decoder.generate(longer, 2, DecodeOptions(10))
    assert decoder.cache_lengths() == {1: CACHE_BUCKETS[0], 2: CACHE_BUCKETS[0]}
    decoder.generate(short, 1, DecodeOptions(2), reserve_tokens=CACHE_BUCKETS[0] + 1)
    bigger = decoder.kept_cache(1)
    assert bigger is not first and decoder.cache_lengths()[1] == CACHE_BUCKETS[1]
    decoder.release()
    assert decoder.cache_lengths() == {}


def test_kv_cache_bytes_of_the_real_architecture():
    from transformers import Qwen2Config

    config = Qwen2Config(
        hidden_size=1536, num_attention_heads=12, num_key_value_heads=2, num_hidden_layers=28
    )
    assert kv_cache_bytes(config, 1, 1, 2) == 28 * 1024  # 28 layers x K and V x 2 heads x 128 dims x 2 bytes
    assert kv_cache_bytes(config, 8, 4096, 2) == 8 * 4096 * 28 * 1024


def test_warm_up_sizes_caches_for_each_batch_and_keeps_eos(tiny):
    model, tokenizer = tiny
    decoder = FastDecoder(model, tokenizer, static_cache=True)
    eos = set(decoder.eos_ids)
    reports = []
    decoder.warm_up([1, 3], 600, reports.append)
    assert decoder.cache_lengths() == {1: 1024, 3: 1024}
    assert decoder.eos_ids == eos and len(reports) == 2
    warmed = decoder._caches[3][1]
    decoder.generate(tokenizer.encode(PROMPT, add_special_tokens=False), 3, DecodeOptions(8))
    assert decoder._caches[3][1] is warmed  # a job that fits reuses the warmed cache (and compiled step)


def test_compiled_decode_step_is_one_graph_and_gives_the_same_tokens(tiny):
    # CUDA graphs (mode reduce-overhead) need a GPU; here dynamo traces the very same step on the CPU with
    # fullgraph=True, which fails on any graph break, and the compiled loop must give the eager tokens.
    model, tokenizer = tiny
    prompt_ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    eager = FastDecoder(model, tokenizer, static_cache=True)
    options = {"backend": "aot_eager", "fullgraph": True, "dynamic": False}
    compiled = FastDecoder(model, tokenizer, static_cache=True, compile_step=True, compile_options=options)
    assert (
        compiled.compile_step
        and not FastDecoder(model, tokenizer, static_cache=True, compile_step=True).compile_step
    )
    expected = eager.generate(prompt_ids, 2, DecodeOptions(12)).token_ids
    assert compiled.generate(prompt_ids, 2, DecodeOptions(12)).token_ids == expected


def test_a_session_run_between_another_ones_steps_gets_its_own_cache(tiny):
    # The engine runs an urgent job (an inline completion) between a background job's steps: with static caches
    # pooled per batch size, the urgent session must not take (and reset) the cache the paused one holds.
    model, tokenizer = tiny
    decoder = FastDecoder(model, tokenizer, static_cache=True)
    decoder.eos_ids = set()
    outer_ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    inner_ids = tokenizer.encode("Complexity: O(n)", add_special_tokens=False)
    outer_alone = decoder.generate(outer_ids, 1, DecodeOptions(16)).token_ids
    inner_alone = decoder.generate(inner_ids, 1, DecodeOptions(8)).token_ids
    session = decoder.start(outer_ids, 1, DecodeOptions(16))
    for _ in range(3):
        session.step()
    inner_results = [decoder.generate(inner_ids, 1, DecodeOptions(8)).token_ids]
    while not session.done:
        session.step()
    session.close()
    outer = session.result()
    assert outer.token_ids == outer_alone
    assert inner_results == [inner_alone]
