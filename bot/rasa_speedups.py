"""Rasa-side speed-up, installed by our chat channels when Rasa builds them.

Rasa 3.6 checks every action-server response against a JSON schema with
`jsonschema.validate`, which first re-validates the (constant) schema itself against
its meta-schema and builds a new validator, on every call: about 22 ms per custom
action on this machine, the largest single cost in a profile of the Rasa process
under load (README "Performance"). `install` swaps in the same check with the schema
checked once and one validator reused: same schema, same errors, same message.
If a Rasa upgrade changes the method, nothing is patched and a warning is logged.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Dict, Optional

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_installed = False
_validator: Optional[Any] = None


def _response_validator(remote_action_class) -> Any:
    global _validator
    if _validator is None:
        from jsonschema.validators import validator_for

        schema = remote_action_class.action_response_format_spec()
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        _validator = validator_class(schema)
    return _validator


def validate_action_result(self, result: Dict[str, Any]) -> bool:
    """Drop-in for RemoteAction._validate_action_result (Rasa 3.6)."""
    from jsonschema.exceptions import best_match

    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_response_validator(type(self)).iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> bool:
    """Idempotent; True when the cached validation is in place."""
    global _installed
    with _lock:
        if _installed:
            return True
        from rasa.core.actions.action import RemoteAction

        if not (
            callable(getattr(RemoteAction, "_validate_action_result", None))
            and callable(getattr(RemoteAction, "action_response_format_spec", None))
        ):
            logger.warning("Rasa's RemoteAction changed; action responses are validated the slow way.")
            return False
        RemoteAction._validate_action_result = validate_action_result
        _installed = True
        return True
