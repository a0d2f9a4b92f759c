"""The site's Jinja environment: Flask's, with attribute lookups that try a dict's items first."""

from __future__ import annotations

from typing import Any

from flask.templating import Environment as FlaskEnvironment

# A plain dict's own attributes (``items``, ``get``, ...): for any other name Jinja's lookup
# of ``d.name`` ends at ``d["name"]`` anyway.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(FlaskEnvironment):
    """Templates read documents (plain dicts) as ``doc.title``. Jinja tries ``getattr`` first
    and reaches the item only after an ``AttributeError``: thousands of raised exceptions on a
    large page. For a plain dict this goes to the item directly, with the same result."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)
