"""The local AWS for the rehearsal: moto's server on 127.0.0.1, with sandbox.moto_extensions.

How to deploy against it (see sandbox/demo.py):
- address it as http://localhost:PORT: moto resolves a path-style TemplateURL only when its host
  says "localhost";
- use `cdk deploy --method=direct`: moto's change sets create stacks that cannot see other stacks'
  exports and publish no outputs, while its CreateStack/UpdateStack do both.

Usage: python -m sandbox.aws_emulator --port N
"""

from __future__ import annotations

import argparse

from moto import server

import sandbox.moto_extensions  # noqa: F401  (patches moto before the server starts)
from sandbox.processes import LOOPBACK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server.main(["-H", LOOPBACK, "-p", str(args.port)])


if __name__ == "__main__":
    main()
