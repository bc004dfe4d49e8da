"""A tiny paced text-completions SSE server (only for developing the harness without workbench.sim).

Run: ``python bench/standin/sim.py --port N --rate TOK_PER_S``; prints ``PORT <n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

WORDS = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex boxing judges".split()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, rate: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = json.loads(await reader.readexactly(length)) if length else {}
            tokens = int(body.get("max_tokens") or 16)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            start = time.monotonic()
            for index in range(tokens + 1):
                finish = "length" if index == tokens else None
                text = "" if finish else ("\n" if index % 40 == 39 else " ") + WORDS[index % len(WORDS)]
                event = {"id": "cmpl-standin", "object": "text_completion", "model": body.get("model", "m"),
                         "choices": [{"index": 0, "text": text, "finish_reason": finish}]}
                payload = b"data: " + json.dumps(event).encode() + b"\n\n"
                writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))
                due = start + index / rate
                if due > time.monotonic():
                    await writer.drain()
                    await asyncio.sleep(due - time.monotonic())
            payload = b"data: [DONE]\n\n"
            writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, default=2000.0)
    args = parser.parse_args()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.rate), "127.0.0.1", args.port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
