"""Every student message gets an answer, even when part of the stack fails.

Rasa 3.6 swallows a failing custom action: when the action server cannot be
reached it logs "Failed to run custom action ... Couldn't connect" and
"Encountered an exception while running action", drops that action's events and
carries on, and the student sees nothing at all (verified by
tests/slow/test_faults.py). A failing tracker or lock store raises out of the
message handler, and the student again sees nothing.

`answer_turn` runs one user turn through Rasa with the output channel wrapped in
a counter. When the turn ends without a single bot message (or raised), it sends
a short Dutch message so the student knows to resend; whatever the conversation
already holds (the answers given so far) stays in the tracker store, so the
resent message continues where the student was. Finally it signals that the
turn is over (`turn_done`), which lets the chat page stop its typing indicator
and lets tests measure a turn exactly.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage

logger = logging.getLogger(__name__)

# Emitted to the student's room when a turn is over (after the last bot message).
TURN_DONE_EVENT = "bot_turn_done"

SOMETHING_WENT_WRONG = (
    "Er ging even iets mis aan mijn kant. Je antwoorden tot nu toe zijn bewaard — "
    "stuur je bericht zo nog een keer."
)


class CountingOutput(OutputChannel):
    """Passes every bot message on to the real output channel and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> Text:  # type: ignore[override]  # the inner channel's name picks channel-specific responses
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await self.inner.send_response(recipient_id, message)
        self.sent += 1

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)


async def answer_turn(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    turn_done: Optional[Callable[[], Awaitable[Any]]] = None,
) -> int:
    """Handles one user message; returns how many bot messages the student got."""
    output = CountingOutput(message.output_channel)
    message.output_channel = output
    try:
        await on_new_message(message)
    except Exception:
        logger.exception("handling a message of %s failed", message.sender_id)
    try:
        if output.sent == 0:
            logger.error("turn of %s produced no bot message; sent the retry notice", message.sender_id)
            await output.inner.send_text_message(message.sender_id, SOMETHING_WENT_WRONG)
            output.sent += 1
    finally:
        if turn_done is not None:
            await turn_done()
    return output.sent
