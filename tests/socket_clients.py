"""Helpers for python-socketio test clients of the real chat channel."""
from __future__ import annotations

import asyncio

import socketio


def closing_at_once(client: socketio.AsyncClient) -> socketio.AsyncClient:
    """python-socketio's polling client waits for its pending long-poll (the server's
    25 s ping interval) when it disconnects, also inside a refused connect: ~30 s
    each time. Tests need not wait for that: close at once."""
    close = client.eio.disconnect

    async def disconnect(abort=False, **kwargs):
        await close(abort=True, **kwargs)
        loops = [getattr(client.eio, name, None) for name in ("read_loop_task", "write_loop_task")]
        # (the read loop itself calls disconnect when the server closes the socket)
        loops = [t for t in loops if t is not None and not t.done() and t is not asyncio.current_task()]
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)

    client.eio.disconnect = disconnect
    return client
