"""Shared fixtures: a tiny model saved like a real checkpoint, and a fake OpenAI-compatible server."""

from __future__ import annotations

import pytest

from tests.adapter_fixtures import trained  # noqa: F401 - one LoRA training run, shared
from tests.fake_openai import FakeOpenAI
from tests.tiny_model import build_tiny_model

TWO_SUM_SOURCE = '''\
def two_sum(nums, target):
    """Indices of the two numbers adding up to target.

    >>> two_sum([2, 7, 11, 15], 9)
    [0, 1]
    >>> two_sum([3, 2, 4], 6)
    [1, 2]
    """
    # TODO: hash map, O(n)
    pass
'''

GOOD_REPLY = """<think>
Draft: ```python
def two_sum(nums, target):
    return []
```
Better use a dict.
</think>
Use a hash map from value to index.

```python
def two_sum(nums, target):
    seen = {}
    for i, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], i]
        seen[x] = i
    return []
```

Complexity: O(n) time, O(n) space
"""

WRONG_REPLY = """<think>quick</think>
```python
def two_sum(nums, target):
    return [0, 1]
```
Complexity: O(1) time, O(1) space
"""


@pytest.fixture(scope="session")
def one_torch_thread():
    """Tiny models run fastest on one thread (and do not spin against other processes on a busy machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny random Qwen2 checkpoint with a BPE tokenizer, built offline once per session."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"))


@pytest.fixture
def fake_openai():
    """A fake OpenAI-compatible server answering with GOOD_REPLY; tests may swap `.responder`."""
    with FakeOpenAI(GOOD_REPLY) as server:
        yield server
