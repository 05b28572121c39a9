"""Experiment "cached-jsonschema": `jsonschema.validate` with the validator built once
per schema.

Rasa 3.6 validates every action-server response with
`jsonschema.validate(result, RemoteAction.action_response_format_spec())`
(rasa/core/actions/action.py, `_validate_action_result`). `jsonschema.validate`
first checks the schema itself against the draft 2020-12 metaschema
(`check_schema`) and builds a new validator, on every call, on Rasa's event loop.
Here the checked validator is kept per schema, so each call only validates the
response. Same errors (best_match of iter_errors, as jsonschema.validate raises).
"""
import json

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

_original = jsonschema.validate
_validators = {}


def validate(instance, schema, cls=None, *args, **kwargs):
    key = (json.dumps(schema, sort_keys=True, default=str), cls)
    validator = _validators.get(key)
    if validator is None:
        kind = cls if cls is not None else validator_for(schema)
        kind.check_schema(schema)
        validator = _validators[key] = kind(schema, *args, **kwargs)
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


validate.__wrapped__ = _original
jsonschema.validate = validate
