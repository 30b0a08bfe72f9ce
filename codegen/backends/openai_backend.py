"""Any OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp server, Ollama) over HTTP."""

from __future__ import annotations

import json

import httpx

from codegen.backends.base import BackendError, GenerationParams, ModelConfig, OnCandidate, OnText, ShouldStop


class OpenAIBackend:
    """Chat completions and plain completions from a remote server, streamed."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.name = config.name
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s, connect=10.0),
        )

    def chat(
        self,
        messages: list[dict[str, str]],
        params: GenerationParams,
        on_text: OnText | None = None,
        should_stop: ShouldStop | None = None,
        on_candidate: OnCandidate | None = None,
    ) -> list[str]:
        """Ask for `params.n` replies in one streamed request; a True from `on_candidate` closes the stream.

        The thinking budget is not enforced here (the server decides); prompt lookup is the server's business.
        """
        body = {
            "model": self.config.name,
            "messages": messages,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": params.n,
            "stream": True,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        replies = [""] * params.n
        finished: set[int] = set()
        for chunk in self._stream("/chat/completions", body, should_stop):
            if self._take_chat_chunk(chunk, replies, finished, on_text, on_candidate):
                break
        return replies

    def _take_chat_chunk(self, chunk: dict, replies, finished, on_text, on_candidate) -> bool:
        """Add one streamed chunk to the replies; True when on_candidate accepted a finished reply."""
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            index = _int(choice.get("index", 0))
            if index is None or not 0 <= index < len(replies) or index in finished:
                continue
            delta = (choice.get("delta") or {}).get("content") or ""
            if isinstance(delta, str) and delta:
                replies[index] += delta
                if on_text:
                    on_text(index, delta)
            if choice.get("finish_reason"):
                finished.add(index)
                if on_candidate and on_candidate(index, replies[index]):
                    return True
        return False

    def complete(
        self,
        prefix: str,
        max_new_tokens: int,
        stop: tuple[str, ...] = (),
        should_stop: ShouldStop | None = None,
        on_text: OnText | None = None,
    ) -> str:
        """Plain text continuation through `/completions`."""
        body = {
            "model": self.config.name,
            "prompt": prefix,
            "max_tokens": max_new_tokens,
            "temperature": 0.0,
            "stream": True,
        }
        if stop:
            body["stop"] = list(stop)[:4]
        text = ""
        for chunk in self._stream("/completions", body, should_stop):
            for choice in chunk.get("choices") or []:
                if isinstance(choice, dict) and isinstance(choice.get("text"), str) and choice["text"]:
                    text += choice["text"]
                    if on_text:
                        on_text(0, choice["text"])
        return text

    def _stream(self, path: str, body: dict, should_stop: ShouldStop | None):
        """Yield the JSON chunks of a server-sent-events response; stop early when asked."""
        url = self.config.base_url.rstrip("/") + path
        try:
            with self._client.stream("POST", path, json=body) as response:
                if response.status_code != 200:
                    response.read()
                    detail = " ".join(response.text.split())[:200]
                    raise BackendError(
                        f"The model server at {url} answered HTTP {response.status_code} ({detail}); "
                        "check `model.baseUrl` and `model.name`."
                    )
                seen_data = False
                for line in response.iter_lines():
                    if should_stop and should_stop():
                        return
                    line = line.strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    seen_data = True
                    if data == "[DONE]":
                        return
                    try:
                        chunk = json.loads(data)
                    except json.JSONDecodeError as exc:
                        raise BackendError(
                            f"The model server at {url} sent something that is not JSON ({data[:60]!r}); "
                            "check that `model.baseUrl` points at an OpenAI-compatible endpoint."
                        ) from exc
                    if not isinstance(chunk, dict):
                        raise BackendError(
                            f"The model server at {url} sent an unexpected reply ({data[:60]!r})."
                        )
                    if "error" in chunk:
                        raise BackendError(
                            f"The model server at {url} reported an error: {_error_text(chunk)}."
                        )
                    yield chunk
                if not seen_data:
                    raise BackendError(
                        f"The model server at {url} answered without a stream of completions; "
                        "check that `model.baseUrl` points at an OpenAI-compatible endpoint."
                    )
        except httpx.TimeoutException as exc:
            raise BackendError(
                f"The model server at {url} did not answer in time; check that it is running and not overloaded."
            ) from exc
        except httpx.HTTPError as exc:
            raise BackendError(
                f"Cannot reach the model server at {url} ({exc.__class__.__name__}); start it or fix `model.baseUrl`."
            ) from exc

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


def _int(value) -> int | None:
    """The value as an int, or None when it is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error_text(chunk: dict) -> str:
    """The message of an OpenAI-style error object, shortened."""
    error = chunk.get("error")
    message = error.get("message") if isinstance(error, dict) else error
    return str(message or "unknown error").strip().rstrip(".")[:200]
