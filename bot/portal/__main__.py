"""`python -m bot.portal --port 8000 --host 127.0.0.1`: the portal under waitress."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.portal", description="Stagecoach portal (waitress)")
    parser.add_argument("--host", default=os.environ.get("PORTAL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORTAL_PORT") or 8000))
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)

    from waitress import serve

    from bot.config import ConfigurationError
    from bot.portal.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except ConfigurationError as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 2
    print(f"Portal: http://{args.host}:{args.port}/ (health: /health)", flush=True)
    serve(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident="stagecoach",  # X-Forwarded-* is handled in the app (PORTAL_PROXY_COUNT)
        # waitress buffers a whole body before the app sees it (its default: up to 1 GB);
        # up to this size the app answers 413 with the Dutch page, above it waitress does
        max_request_body_size=4 * app.config["MAX_CONTENT_LENGTH"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
