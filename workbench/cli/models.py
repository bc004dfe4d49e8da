"""`workbench models`: list the model ids the endpoint serves (live from ``/v1/models``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.api.client import CompletionClient
from workbench.cli import EXIT_OK
from workbench.cli.common import Output, add_connection_flags, run_with_client


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the endpoint's models",
        description="List the model ids the endpoint serves, one per line.",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array of ids instead")
    add_connection_flags(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    return run_with_client(args, lambda client: list_models(client, args))


async def list_models(client: CompletionClient, args: argparse.Namespace) -> int:
    ids = await client.list_models()
    from workbench.cli.completion import remember_models

    remember_models(client.endpoint.base_url, ids)  # for shell completion of --model
    out = Output(sys.stdout)
    if args.json:
        out.write(json.dumps(ids, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("".join(f"{model_id}\n" for model_id in ids))
    return EXIT_OK
