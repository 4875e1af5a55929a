"""The web forms as the API's value checks: one set of rules for pages and API alike.

A request body, once its shape is checked (cases.api.schemas), is handed to the form the
web page uses for the same act, as if a browser had posted it: phone numbers, places, dates of
birth, lengths and choices are then judged by exactly the same code, with the same translated
messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from werkzeug.datastructures import MultiDict
from wtforms import Form

from .errors import ApiError

MessageMap = dict[str, list[str]]


def to_formdata(data: Mapping) -> MultiDict:
    """What a browser would post for ``data``: lists of names one per line, lists of rows as
    ``name-0-field``, dates in ISO form, true as "y" and false left out, null as empty."""
    posted: MultiDict = MultiDict()
    for key, value in data.items():
        if isinstance(value, bool):
            if value:
                posted.add(key, "y")
        elif value is None:
            posted.add(key, "")
        elif isinstance(value, list) and all(isinstance(row, Mapping) for row in value) and value:
            for index, row in enumerate(value):
                for name, cell in row.items():
                    posted.add(f"{key}-{index}-{name}", "" if cell is None else str(cell))
        elif isinstance(value, list):
            posted.add(key, "\n".join(str(item) for item in value))
        elif isinstance(value, date):
            posted.add(key, value.isoformat())
        else:
            posted.add(key, str(value))
    return posted


def flatten(errors: Mapping | list, prefix: str = "") -> MessageMap:
    """Nested errors (marshmallow's or WTForms') as {"contacts.0.phone": [messages]}."""
    flat: MessageMap = {}
    items = errors.items() if isinstance(errors, Mapping) else enumerate(errors)
    for key, value in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        if name.endswith("._schema") or name == "_schema":
            name = prefix or "_schema"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name))
        elif isinstance(value, list):
            for index, entry in enumerate(value):
                if isinstance(entry, Mapping | list):
                    flat.update(flatten(entry, f"{name}.{index}"))
                else:
                    flat.setdefault(name, []).append(str(entry))
        else:
            flat.setdefault(name, []).append(str(value))
    return flat


def validated(form_class: type[Form], data: Mapping, **kwargs) -> Form:  # noqa: ANN003
    """The web form filled with ``data`` and validated; a 422 with its messages if it fails."""
    form = form_class(formdata=to_formdata(data), meta={"csrf": False}, **kwargs)
    if not form.validate():
        raise ApiError(422, fields=flatten(form.errors))
    return form
