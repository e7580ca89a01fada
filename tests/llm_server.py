"""A local OpenAI-compatible server (no model) that reproduces real servers' quirks.

Measured on llama.cpp's server with a small Gemma model, and reproduced here so each has a test:
the chat template drops the system role (prompt tokens do not change with it), the model echoes the
prompt, replies are cut off with ``finish_reason: "length"``, any model name is accepted and echoed
back, answers take longer than the client's timeout, and a busy server answers 429 + Retry-After.

Its "model" is a rule: answer with the first sentence of source S1, cited ``[S1]``. Tokens are
counted as words. Every request is recorded (path, JSON body), and so is a client that hangs up
while its reply is still being "generated" (``disconnects``).
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """A canned HTTP reply that overrides the simulated model for one request."""

    status: int = 200
    body: Any = None  # dict -> JSON, str -> raw
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Quirks:
    models: tuple[str, ...] = ("gemma-3-270m-it",)
    drop_system: bool = False  # the chat template silently drops the system message
    echo: bool = False  # the "model" repeats the last user message
    honour_max_tokens: bool = True
    ignore_stop_after: int | None = None  # always writes at least this many words (cut off by max_tokens)
    delay_s: float = 0.0  # generation time
    answer: Callable[[list[dict[str, str]]], str] | None = None  # replaces the first-sentence rule


def first_sentence_of_s1(messages: list[dict[str, str]]) -> str:
    m = re.search(r'<source id="S1"[^>]*>\n(.*?)\n</source>', messages[-1]["content"], re.S)
    if not m:
        return "I cannot answer this from the available sources."
    sentence = re.split(r"(?<=[.!?])\s", m.group(1).strip())[0].rstrip(".")
    return f"{sentence} [S1]."


def completion(
    text: str, *, model: str, prompt: int, completion: int, finish: str | None = "stop"
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


class OpenAICompatibleServer:
    """``with OpenAICompatibleServer(Quirks(...), script=[Reply(...)]) as s: s.base_url``"""

    def __init__(self, quirks: Quirks | None = None, script: list[Reply] | None = None) -> None:
        self.quirks = quirks or Quirks()
        self.script = list(script or [])
        self.requests: list[dict[str, Any]] = []
        self.disconnects = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    data = {
                        "object": "list",
                        "data": [{"id": m, "object": "model"} for m in server.quirks.models],
                    }
                    self._send(200, json.dumps(data))
                else:
                    self._send(404, json.dumps({"error": {"message": "not found"}}))

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with server.lock:
                    server.requests.append(
                        {"path": self.path, "json": body, "auth": self.headers.get("authorization")}
                    )
                    reply = server.script.pop(0) if server.script else None
                if reply is not None:
                    if self._generate_for(reply.delay_s):
                        payload = (
                            reply.body
                            if isinstance(reply.body, str)
                            else json.dumps(reply.body or {"error": {}})
                        )
                        self._send(reply.status, payload, reply.headers)
                    return
                if self._generate_for(server.quirks.delay_s):
                    self._send(200, json.dumps(server.simulate(body)))

            def _generate_for(self, seconds: float) -> bool:
                """Sleep like a model generating; False when the client hung up meanwhile."""
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    readable, _, _ = select.select([self.connection], [], [], 0.05)
                    if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                        with server.lock:
                            server.disconnects += 1
                        return False
                return True

            def _send(self, status: int, payload: str, headers: dict[str, str] | None = None) -> None:
                data = payload.encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------------ the simulated model
    def simulate(self, body: dict[str, Any]) -> dict[str, Any]:
        q = self.quirks
        messages = [m for m in body["messages"] if not (q.drop_system and m["role"] == "system")]
        prompt_tokens = sum(len(str(m["content"]).split()) for m in messages)
        text = str(messages[-1]["content"]) if q.echo else (q.answer or first_sentence_of_s1)(messages)
        words = text.split()
        if q.ignore_stop_after and len(words) < q.ignore_stop_after:
            words += ["and"] * (q.ignore_stop_after - len(words))
        limit = body.get("max_tokens") or 10_000
        finish = "stop"
        if q.honour_max_tokens and len(words) > limit:
            words, finish = words[:limit], "length"
        return completion(
            " ".join(words) if len(words) != len(text.split()) else text,
            model=body.get("model", "?"),  # any name is accepted and echoed back
            prompt=prompt_tokens,
            completion=len(words),
            finish=finish,
        )

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def sent_text(self) -> str:
        """Everything the server received in chat messages, as one string."""
        return "\n".join(str(m["content"]) for r in self.chat_requests() for m in r["json"]["messages"])

    def __enter__(self) -> OpenAICompatibleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
