"""A recorded model provider: a real HTTP server on 127.0.0.1 that answers from cassettes.

The real OpenAI and Anthropic clients, and Pydantic AI's real model classes, talk to it by base URL,
so a test drives the whole live path (the worker builds the model, the model request is an activity,
the client sends HTTP) with no key and no network. It speaks three wire formats:

- OpenAI's Responses API, `POST /v1/responses` (what Pydantic AI uses for `openai:` names);
- OpenAI's chat completions, `POST /v1/chat/completions` (`ollama:` names: any OpenAI-compatible server);
- Anthropic's messages, `POST /v1/messages` (`anthropic:` names).

A cassette (`tests/data/cassettes/<name>.json`) is chosen by the model name the request carries
(`openai:write-hello` plays `write-hello.json`). It is a list of exchanges, each used once, in order:
a request gets the first unused exchange whose `match` (if any) occurs in the request's text. An
exchange is a reply (`text`, `tool_calls`, `usage`), written out in the format asked for, or a failure:
`status` (with `error` and `headers`, e.g. a 429 with `Retry-After`), `drop` (the connection closes
with no answer) or `delay` (seconds before the reply). A request no exchange matches gets a 400 that
says so, so a test that strays fails plainly. Every request is kept in `requests`, to assert on what
the model was told and how often it was asked.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CASSETTES = Path(__file__).parent / "data" / "cassettes"
FORMATS = {"/v1/responses": "responses", "/v1/chat/completions": "chat", "/v1/messages": "anthropic"}
ERROR_TYPES = {
    400: ("invalid_request_error", "invalid_request_error"),
    429: ("rate_limit_exceeded", "rate_limit_error"),
    500: ("server_error", "api_error"),
}
"""Status -> (OpenAI's error code, Anthropic's error type)."""


@dataclass
class Request:
    """One request the server received."""

    format: str
    model: str
    body: dict[str, Any]
    text: str
    """Every string in the body, one per line (what `match` is looked for in)."""
    answered: str
    """What the server did: `reply`, `status 429`, `drop`, `unmatched`..."""


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass
class ProviderServer:
    """The server, its cassettes' state and the requests it saw. `start()` it; `stop()` when done."""

    cassettes: Path = CASSETTES
    requests: list[Request] = field(default_factory=list)
    used: dict[str, set[int]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_url(self) -> str:
        """The base URL an OpenAI client (and an OpenAI-compatible one) is given."""
        return f"{self.url}/v1"

    def start(self) -> ProviderServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))  # port 0: a free one
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="provider-server", daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget the requests and rewind every cassette."""
        with self._lock:
            self.requests.clear()
            self.used.clear()

    def asked(self, model: str) -> list[Request]:
        """The requests that named cassette `model`."""
        return [r for r in self.requests if r.model == model]

    def pick(self, fmt: str, body: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        """The cassette name and the exchange for this request (None when no unused exchange matches)."""
        model = str(body.get("model", ""))
        text = "\n".join(_strings(body))
        path = self.cassettes / f"{model}.json"
        exchanges = json.loads(path.read_text())["exchanges"] if path.is_file() else []
        with self._lock:
            used = self.used.setdefault(model, set())
            chosen = next(
                (i for i, e in enumerate(exchanges) if i not in used and e.get("match", "") in text),
                None,
            )
            if chosen is not None:
                used.add(chosen)
            exchange = exchanges[chosen] if chosen is not None else None
            answered = "unmatched" if exchange is None else _kind(exchange)
            self.requests.append(Request(fmt, model, body, text, answered))
        return model, exchange


def _kind(exchange: dict[str, Any]) -> str:
    if exchange.get("drop"):
        return "drop"
    if "status" in exchange:
        return f"status {exchange['status']}"
    return "delayed reply" if exchange.get("delay") else "reply"


def _handler(server: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests read `requests`
            pass

        def do_POST(self) -> None:
            fmt = FORMATS.get(self.path.split("?")[0])
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if fmt is None:
                self._send(404, {"error": {"message": f"No such endpoint {self.path}", "type": "not_found"}})
                return
            model, exchange = server.pick(fmt, body)
            if exchange is None:
                message = f"The recorded server has no unused exchange for this request in cassette {model!r}."
                self._send(400, error_body(fmt, 400, message))
            elif exchange.get("drop"):
                self.close_connection = True  # no status line: the client sees the connection close
            elif "status" in exchange:
                status = exchange["status"]
                self._send(status, error_body(fmt, status, exchange.get("error", "")), exchange.get("headers", {}))
            else:
                time.sleep(exchange.get("delay", 0))
                self._send(200, reply_body(fmt, model, exchange, len(server.requests)))

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout): nothing to answer
                self.close_connection = True

    return Handler


def error_body(fmt: str, status: int, message: str) -> dict[str, Any]:
    """An error as the provider sends it."""
    openai_code, anthropic_type = ERROR_TYPES.get(status, ("error", "api_error"))
    if fmt == "anthropic":
        return {"type": "error", "error": {"type": anthropic_type, "message": message}}
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": openai_code}}


def reply_body(fmt: str, model: str, exchange: dict[str, Any], n: int) -> dict[str, Any]:
    """A model's answer (`text` and/or `tool_calls` [{id, name, args}]) in the wire format `fmt`."""
    text: str | None = exchange.get("text")
    calls: list[dict[str, Any]] = exchange.get("tool_calls", [])
    tokens_in, tokens_out = exchange.get("usage", [50, 10])
    if fmt == "responses":
        output: list[dict[str, Any]] = [
            {
                "type": "function_call",
                "id": f"fc_{c['id']}",
                "call_id": c["id"],
                "name": c["name"],
                "arguments": json.dumps(c.get("args", {})),
                "status": "completed",
            }
            for c in calls
        ]
        if text is not None:
            content = [{"type": "output_text", "text": text, "annotations": []}]
            output.append(
                {"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed", "content": content}
            )
        return {
            "id": f"resp_{n}",
            "object": "response",
            "created_at": 1_760_000_000,
            "model": model,
            "status": "completed",
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }
    if fmt == "chat":
        tool_calls = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c.get("args", {}))},
            }
            for c in calls
        ]
        message = {"role": "assistant", "content": text, "tool_calls": tool_calls or None}
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 1_760_000_000,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }
    content = [{"type": "text", "text": text}] if text is not None else []
    content += [{"type": "tool_use", "id": c["id"], "name": c["name"], "input": c.get("args", {})} for c in calls]
    return {
        "id": f"msg_{n}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
    }
