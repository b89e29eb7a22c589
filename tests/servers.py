"""Servers for HTTP tests: a real llama.cpp server, and a small misbehaving OpenAI-compatible one."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 120.0) -> None:
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


def start_llamacpp_server(model_path: str) -> tuple[subprocess.Popen, str]:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1; returns (process, base URL)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", model_path, "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "4096", "--model_alias", "smollm2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/v1/models")
    except TimeoutError:
        process.kill()
        raise
    return process, f"http://127.0.0.1:{port}/v1"


def send_json(handler: BaseHTTPRequestHandler, payload: dict) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class JsonServer:
    """A local HTTP server whose POST answers are ``respond(request JSON)`` as JSON (status 200)."""

    def __init__(self, respond):
        outer = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                outer.requests += 1
                send_json(self, respond(json.loads(self.rfile.read(int(self.headers["Content-Length"])))))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


class FlakyServer:
    """Answers /v1/completions with ``fail_first`` errors (HTTP 503) per prompt, then a program.

    Prompts whose text contains ``hang_marker`` never get an answer in time; ``always_fail`` marks
    prompts that always get HTTP 500.
    """

    def __init__(self, fail_first: int = 2, hang_seconds: float = 5.0):
        self.fail_first, self.hang_seconds = fail_first, hang_seconds
        self.attempts: dict[str, int] = {}
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = json.dumps(body["prompt"])
                server.requests += 1
                server.attempts[key] = server.attempts.get(key, 0) + 1
                if "HANG" in key:
                    time.sleep(server.hang_seconds)
                if server.attempts[key] <= server.fail_first or "FAIL" in key:
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"overloaded")
                    return
                send_json(self, {"choices": [{"text": "keep_doc()"}], "usage": {"completion_tokens": 4}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


class SlowServer:
    """Answers every POST with 200 and a body it writes ``drip`` bytes at a time, ``pause`` seconds apart, for
    ``size`` bytes (or without end)."""

    def __init__(self, drip: int, pause: float, size: float):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                sent = 0
                try:
                    while sent < size:
                        self.wfile.write(b" " * drip)
                        self.wfile.flush()
                        sent += drip
                        time.sleep(pause)
                except OSError:  # the client gave up: what it must do
                    return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
