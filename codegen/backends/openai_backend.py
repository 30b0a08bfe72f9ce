"""Any OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp server, Ollama) over HTTP."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading

import httpx

from codegen.backends.base import BackendError, BlockingCalls, GenerationParams, ModelConfig, Step

STOP_POLL_S = 0.05  # longest a step waits for the server before returning empty-handed (so stops are heard)


class OpenAIBackend(BlockingCalls):
    """Chat completions and plain completions from a remote server, streamed."""

    def __init__(self, config: ModelConfig) -> None:
        """Remember the server; nothing connects until the first request."""
        self.config = config
        self.name = config.name
        self.adapter: str | None = config.adapter or None  # a LoRA adapter's served name (vLLM, SGLang)

    @property
    def served_model(self) -> str:
        """The request's `model`: the served adapter's name when one is set, else the model's."""
        return self.adapter or self.config.name

    def set_adapter(self, name: str) -> None:
        """Ask the server for another served adapter ('' for the base model) from the next request on."""
        self.adapter = name or None

    def _check_hint(self) -> str:
        """What to check when the server refuses a request."""
        if not self.adapter:
            return "check `model.baseUrl` and `model.name`."
        return (
            f"check `model.baseUrl` and that the server serves the adapter {self.adapter!r} "
            "(vLLM: `--enable-lora --lora-modules NAME=PATH`)."
        )

    def start_chat(self, messages: list[dict[str, str]], params: GenerationParams) -> StreamSession:
        """Ask for `params.n` replies in one streamed request; stopping the session closes the stream.

        The thinking budget is not enforced here (the server decides); prompt lookup is the server's business.
        """
        body = {
            "model": self.served_model,
            "messages": messages,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": params.n,
            "stream": True,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.top_k > 0:
            body["top_k"] = params.top_k  # vLLM, SGLang and llama.cpp read it; sent only when set
        return StreamSession(self, "/chat/completions", body, params.n)

    def start_complete(self, prefix: str, max_new_tokens: int, stop: tuple[str, ...] = ()) -> StreamSession:
        """Plain text continuation through `/completions`; the result is the text of candidate 0."""
        body = {
            "model": self.served_model,
            "prompt": prefix,
            "max_tokens": max_new_tokens,
            "temperature": 0.0,
            "stream": True,
        }
        if stop:
            body["stop"] = list(stop)[:4]
        return StreamSession(self, "/completions", body, 1, completion=True)

    def _read_events(
        self, path: str, body: dict, events: queue.Queue, stop: threading.Event, sockets
    ) -> None:
        """The reader thread: put ("chunk", dict) per event, then ("end", None) or ("error", BackendError)."""
        try:
            for chunk in self._request_events(path, body, stop, sockets):
                events.put(("chunk", chunk))
            events.put(("end", None))
        except BackendError as exc:
            events.put(("error", exc))
        except Exception as exc:  # noqa: BLE001 - anything else still reaches the caller as one sentence
            url = self.config.base_url.rstrip("/") + path
            events.put(
                ("error", BackendError(f"The model server at {url} failed ({exc.__class__.__name__})."))
            )

    def _request_events(self, path: str, body: dict, stop: threading.Event, sockets):
        """POST the body and yield the JSON chunks of the server-sent events until [DONE] or `stop`."""
        url = self.config.base_url.rstrip("/") + path

        def keep_socket(event: str, info: dict) -> None:
            if event == "connection.connect_tcp.complete" and info.get("return_value") is not None:
                sock = info["return_value"].get_extra_info("socket")
                if sock is not None:
                    sockets.append(sock)

        try:
            with (
                self._new_client() as client,
                client.stream("POST", path, json=body, extensions={"trace": keep_socket}) as response,
            ):
                if response.status_code != 200:
                    response.read()
                    detail = " ".join(response.text.split())[:200]
                    raise BackendError(
                        f"The model server at {url} answered HTTP {response.status_code} ({detail}); "
                        f"{self._check_hint()}"
                    )
                seen_data = False
                for line in response.iter_lines():
                    if stop.is_set():
                        return
                    line = line.strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    seen_data = True
                    if data == "[DONE]":
                        return
                    yield parse_event(url, data)
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
            if stop.is_set():
                return
            raise BackendError(
                f"Cannot reach the model server at {url} ({exc.__class__.__name__}); start it or fix `model.baseUrl`."
            ) from exc

    def _new_client(self) -> httpx.Client:
        """An HTTP client for one request (its connection can be shut down on stop without harming others)."""
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        return httpx.Client(
            base_url=self.config.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(self.config.timeout_s, connect=10.0),
        )

    def close(self) -> None:
        """Nothing to free: each request has its own connection, closed when it ends."""


class StreamSession:
    """One streamed request as a session: a reader thread does the HTTP and queues the server's events; each
    `step()` takes the next one (a chunk of text, maybe a finished candidate), so the caller can stop between
    any two. Stopping shuts the connection down, which frees the server and the reader."""

    def __init__(
        self, backend: OpenAIBackend, path: str, body: dict, n: int, completion: bool = False
    ) -> None:
        """Send the request on a reader thread at once."""
        self.replies = [""] * n
        self.completion = completion
        self._finished: set[int] = set()
        self._events: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._ended = False
        self._reader = threading.Thread(
            target=backend._read_events,
            args=(path, body, self._events, self._stop, self._sockets),
            name="openai-stream",
            daemon=True,
        )
        self._reader.start()

    @property
    def done(self) -> bool:
        """Whether the stream ended (or was stopped)."""
        return self._ended

    def step(self) -> Step:
        """Take the next event from the server (waiting at most STOP_POLL_S); raise the reader's BackendError."""
        step = Step()
        try:
            kind, value = self._events.get(timeout=STOP_POLL_S)
        except queue.Empty:
            return step
        if kind == "error":
            self.stop()
            raise value
        if kind == "end":
            self.stop()
        else:
            self._take(value, step)
        return step

    def _take(self, chunk: dict, step: Step) -> None:
        """Add one streamed chunk to the replies and the step."""
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            index = _int(choice.get("index", 0))
            if index is None or not 0 <= index < len(self.replies) or index in self._finished:
                continue
            delta = choice.get("text") if self.completion else (choice.get("delta") or {}).get("content")
            if isinstance(delta, str) and delta:
                self.replies[index] += delta
                step.pieces.append((index, delta))
                step.tokens += 1
            if choice.get("finish_reason") and not self.completion:
                self._finished.add(index)
                step.finished.append((index, self.replies[index]))

    def stop(self, reason: str = "cancelled") -> None:
        """Hang up: the reader stops and the server's connection is shut down."""
        self._ended = True
        self._stop.set()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def result(self):
        """The replies (chat) or the text (completion)."""
        return self.replies[0] if self.completion else self.replies

    def close(self) -> None:
        """Hang up if the stream still runs."""
        self.stop()


def parse_event(url: str, data: str) -> dict:
    """One server-sent event's JSON object; BackendError for garbage or an error object."""
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as exc:
        raise BackendError(
            f"The model server at {url} sent something that is not JSON ({data[:60]!r}); "
            "check that `model.baseUrl` points at an OpenAI-compatible endpoint."
        ) from exc
    if not isinstance(chunk, dict):
        raise BackendError(f"The model server at {url} sent an unexpected reply ({data[:60]!r}).")
    if "error" in chunk:
        raise BackendError(f"The model server at {url} reported an error: {_error_text(chunk)}.")
    return chunk


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
