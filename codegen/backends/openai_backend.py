"""Any OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp server, Ollama) over HTTP."""

from __future__ import annotations

import json

import httpx

from codegen.backends.base import BackendError, GenerationParams, ModelConfig, OnText, ShouldStop


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
    ) -> list[str]:
        """Ask for `params.n` replies in one streamed request."""
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
        for chunk in self._stream("/chat/completions", body, should_stop):
            for choice in chunk.get("choices", []):
                index = int(choice.get("index", 0))
                delta = (choice.get("delta") or {}).get("content") or ""
                if 0 <= index < params.n and delta:
                    replies[index] += delta
                    if on_text:
                        on_text(index, delta)
        return replies

    def complete(
        self,
        prefix: str,
        max_new_tokens: int,
        stop: tuple[str, ...] = (),
        should_stop: ShouldStop | None = None,
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
            for choice in chunk.get("choices", []):
                text += choice.get("text") or ""
        return text

    def _stream(self, path: str, body: dict, should_stop: ShouldStop | None):
        """Yield the JSON chunks of a server-sent-events response; stop early when asked."""
        url = self.config.base_url.rstrip("/") + path
        try:
            with self._client.stream("POST", path, json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise BackendError(
                        f"The model server at {url} answered HTTP {response.status_code}: "
                        f"{response.text[:200].strip()}; check `model.baseUrl` and `model.name`."
                    )
                for line in response.iter_lines():
                    if should_stop and should_stop():
                        return
                    line = line.strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
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
                    yield chunk
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
