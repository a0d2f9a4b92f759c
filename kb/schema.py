"""JSON Schema validation of the data files, reporting file, record id and field."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import fastjsonschema

from .errors import InvalidData

if TYPE_CHECKING:  # jsonschema is imported when a record fails (a start from a snapshot needs none)
    from jsonschema.exceptions import ValidationError


def _item_schema(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = json.loads(resources.files("kb.schemas").joinpath(name).read_text("utf-8"))
    # Validate item by item so an error can name its record; keep $defs reachable.
    item_schema = dict(schema["items"])
    for defs in ("$defs", "definitions"):
        if defs in schema:
            item_schema[defs] = schema[defs]
    return schema, item_schema


@cache
def _item_validator(name: str) -> Any:
    """The reference validator, used to explain a failure precisely."""
    import jsonschema

    schema, item_schema = _item_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(item_schema)


@cache
def _fast_check(name: str) -> Any:
    """A compiled validator, about ten times faster, for the common case of valid data.

    Our schemas use only keywords that draft-07 shares with 2020-12, so they compile as draft-07.
    """
    _, item_schema = _item_schema(name)
    item_schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(item_schema)


def _innermost(err: ValidationError) -> ValidationError:
    """Descend through ``oneOf`` to the alternative the record was evidently meant to be.

    An alternative rejected at its root by ``type`` or ``const`` (a different ``type`` tag, or
    ``null``) was not meant; among the rest, the best-matching error is reported.
    """
    from jsonschema.exceptions import best_match

    while err.validator == "oneOf" and err.context:
        by_alt: dict[Any, list[ValidationError]] = {}
        for sub in err.context:
            by_alt.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [
            errs
            for errs in by_alt.values()
            if not any(
                e.validator in ("type", "const")
                and len(e.relative_path) <= 1
                and (not e.relative_path or e.relative_path[0] == "type")
                for e in errs
            )
        ]
        pool = meant[0] if meant else list(err.context)
        err = best_match(pool)
    return err


def validate_records(file: str, schema_name: str, records: Any, *, id_key: str = "id") -> None:
    """Validate a list of records against ``schema_name``; raise on the first bad record.

    The :class:`InvalidData` names the file, the record (by id, or by position when it has
    none) and the field.
    """
    if not isinstance(records, list):
        raise InvalidData(
            file, f"expected a JSON array at the top level, found {type(records).__name__}"
        )
    fast = _fast_check(schema_name)
    for position, record in enumerate(records):
        try:
            fast(record)
            continue
        except fastjsonschema.JsonSchemaException:
            pass
        validator = _item_validator(schema_name)
        if validator.is_valid(record):  # the two validators disagree: trust the reference one
            continue
        from jsonschema.exceptions import best_match

        err = _innermost(best_match(validator.iter_errors(record)))
        rid = record.get(id_key) if isinstance(record, dict) else None
        record_name = str(rid) if isinstance(rid, (str, int)) and rid != "" else f"#{position + 1}"
        path = [str(p) for p in err.absolute_path]
        if err.validator in ("required", "additionalProperties") and "'" in err.message:
            path.append(err.message.split("'")[1])
        raise InvalidData(file, err.message, record=record_name, field=".".join(path) or None)
