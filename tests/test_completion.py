"""Completion cleaning: no special tokens, stop at the block's end, no duplication of what follows."""

from codegen.completion import PrefixCache, clean_completion, completion_prefix


def test_special_tokens_never_leak():
    assert clean_completion("return x<|im_end|><|endoftext|>", "    ", "", "python") == "return x"


def test_stops_at_dedent_out_of_the_block():
    raw = "total += x\n    return total\n\ndef other():\n    pass"
    assert clean_completion(raw, "        ", "", "python") == "total += x"


def test_text_duplicating_what_follows_is_dropped():
    raw = "x = 1\n    y = 2\n    return x + y"
    after = "\n    return x + y\n"
    assert clean_completion(raw, "    ", after, "python") == "x = 1\n    y = 2"


def test_rest_of_the_line_is_not_repeated():
    assert clean_completion("range(n):", "for i in ", "):", "python") == "range(n"


def test_nothing_useful_gives_empty():
    assert clean_completion("<|im_end|>", "", "", "python") == ""
    assert clean_completion("   \n  ", "", "", "python") == ""


def test_prefix_is_trimmed_to_whole_lines():
    text = "a" * 10 + "\n" + "b" * 7000
    assert completion_prefix(text) == ("b" * 7000)[-6000:] or "\n" not in completion_prefix(text)
    assert completion_prefix("short\ntext") == "short\ntext"


def test_cache_serves_typing_along_a_completion():
    cache = PrefixCache()
    cache.put("def f(x):\n    ret", "urn x + 1")
    assert cache.get("def f(x):\n    ret") == "urn x + 1"
    assert cache.get("def f(x):\n    retur") == "n x + 1"
    assert cache.get("def f(x):\n    retX") is None
