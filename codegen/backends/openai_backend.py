"""Any OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp server, Ollama) over HTTP."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading

import httpx

from codegen.backends.base import BackendError, GenerationParams, ModelConfig, OnCandidate, OnText, ShouldStop

STOP_POLL_S = 0.05  # how often a stop request is checked while the server is silent


class OpenAIBackend:
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
            "model": self.served_model,
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
        """Yield the JSON chunks of a server-sent-events response; stop early when asked.

        A reader thread does the HTTP, so that a stop request is noticed even while the server is silent; on stop
        the connection is shut down, which frees the server and the reader.
        """
        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        sockets: list[socket.socket] = []
        reader = threading.Thread(
            target=self._read_events,
            args=(path, body, events, stop, sockets),
            name="openai-stream",
            daemon=True,
        )
        reader.start()
        try:
            while True:
                try:
                    kind, value = events.get(timeout=STOP_POLL_S)
                except queue.Empty:
                    if should_stop and should_stop():
                        return
                    continue
                if kind == "error":
                    raise value
                if kind == "end" or (should_stop and should_stop()):
                    return
                yield value
        finally:
            stop.set()
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

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
