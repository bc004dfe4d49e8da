"""Run ``workbench.sim.SimServer`` in its own process, with a context long enough for 20,000 tokens.

Run: ``python bench/_sim_process.py --port N --rate TOK_PER_S``; prints ``PORT <n>`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio

from workbench.api.request import SEED_MODELS
from workbench.sim import SimServer


async def serve(port: int, rate: float | None, context: int) -> None:
    # The sim gives every model an 8,192-token context; a 20,000-token completion needs more.
    models = {model: context for model in SEED_MODELS}
    async with SimServer(port=port, rate=rate, models=models) as sim:
        print(f"PORT {sim.base_url.rsplit(':', 1)[1]}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, default=2000.0, help="tokens/s; 0 = unpaced")
    parser.add_argument("--context", type=int, default=65536, help="context length of every model")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.rate or None, args.context))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
