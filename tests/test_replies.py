"""Reply parsing: code from the final answer, not the reasoning; complexity statements."""

from codegen.replies import find_complexity, parse_reply, strip_reasoning
from devtools.samples import GOOD_REPLY


def test_code_comes_from_the_answer_not_the_reasoning():
    reply = parse_reply(GOOD_REPLY, "python")
    assert reply.code is not None
    assert "seen = {}" in reply.code
    assert "return []\n" in reply.code and "Draft" not in reply.code
    assert reply.complexity == "O(n) time, O(n) space"


def test_unclosed_reasoning_gives_no_code():
    reply = parse_reply("<think>```python\ndef f(): pass\n```\nstill thinking", "python")
    assert reply.code is None


def test_special_tokens_are_stripped():
    reasoning, answer = strip_reasoning("<think>a</think>```python\nx = 1\n```<|im_end|><|endoftext|>")
    assert reasoning == "a"
    assert "<|" not in answer


def test_last_block_in_the_wanted_language_wins():
    text = "```text\nnot code\n```\n```python\ndef f():\n    return 2\n```\n```python\ndef f():\n    return 3\n```"
    assert parse_reply(text).code == "def f():\n    return 3\n"


def test_block_cut_off_by_the_token_limit_is_still_read():
    assert parse_reply("```python\ndef f():\n    return 1\n").code == "def f():\n    return 1\n"


def test_reply_without_code():
    assert parse_reply("I cannot help with that.").code is None


def test_complexity_forms():
    assert find_complexity("Time complexity: O(n log n), space O(1).") == "O(n log n) time, O(1) space"
    assert find_complexity("This runs in O(n^2) time.") == "O(n^2) time"
    assert find_complexity("no big-O here") is None
    assert find_complexity("Complexity: O(n * (m + k)) time") == "O(n * (m + k)) time"
