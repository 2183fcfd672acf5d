"""A new row written by a statement that does other work too: one round trip to PostgreSQL.

For the few writes whose round trips are the cost: a booking, the count that decides it and its
confirmation message are one statement sent with the session's lock (bookings.services.book_seats),
so no round trip happens while other people booking that session wait (docs/bookings.md, "Speed").

The rows are written as `Model.save()` writes a new instance: each field's `pre_save` (auto_now
dates), its preparation for the database, the `pre_save` / `post_save` signals, the primary key
and `_state` set afterwards. Only for plain models (no parents, no deferred fields): anything else
is refused rather than half-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_save, pre_save


@dataclass
class RowInsert:
    """`INSERT INTO {table} ({columns}) ... {values}`: the values as SQL with %(name)s parameters."""

    table: str
    columns: str
    values: str
    params: dict
    primary_key: str

    def statement(self, source: str, returning: tuple[str, ...] = ()) -> str:
        """The INSERT with its values selected `FROM {source}`: a CTE (and condition) deciding
        whether there is a row at all. It returns the primary key and the `returning` columns."""
        returned = ", ".join((self.primary_key, *returning))
        return f"INSERT INTO {self.table} ({self.columns}) SELECT {self.values} FROM {source} RETURNING {returned}"


def row_insert(obj: Model, prefix: str, expressions: dict[str, str] | None = None) -> RowInsert:
    """The INSERT that `obj.save()` would send for the new instance `obj`.

    Parameters are named `{prefix}{n}`; a field named in `expressions` takes that SQL instead of
    its value (a status decided in the same statement, say).
    """
    model = type(obj)
    if not obj._state.adding or obj.get_deferred_fields():
        raise ValueError(f"row_insert writes new rows of plain models, not {obj!r}")
    shape = _shape(model, obj.pk is None, prefix, tuple(sorted((expressions or {}).items())))
    pre_save.send(sender=model, instance=obj, raw=False, using=connection.alias, update_fields=None)
    params = {
        name: field.get_db_prep_save(field.pre_save(obj, add=True), connection) for name, field in shape.valued_fields
    }
    return RowInsert(
        table=shape.table, columns=shape.columns, values=shape.values, params=params, primary_key=shape.primary_key
    )


@dataclass(frozen=True)
class _Shape:
    table: str
    columns: str
    values: str
    primary_key: str
    valued_fields: tuple  # (parameter name, field) of the columns that take the instance's values


@lru_cache(maxsize=64)
def _shape(model, new_primary_key: bool, prefix: str, expressions: tuple) -> _Shape:
    """What a model's INSERT looks like whatever the instance (worked out once per model and use)."""
    meta = model._meta
    if meta.parents or meta.proxy:
        raise ValueError(f"row_insert writes new rows of plain models, not {model.__name__}")
    if any(hasattr(field, "get_placeholder") for field in meta.concrete_fields):
        raise ValueError(f"row_insert does not know how to write {model.__name__}'s fields")
    sql_for = dict(expressions)
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not (field.primary_key and new_primary_key)]
    values, valued = [], []
    for position, field in enumerate(fields):
        if field.name in sql_for:
            values.append(sql_for[field.name])
        else:
            values.append(f"%({prefix}{position})s")
            valued.append((f"{prefix}{position}", field))
    return _Shape(
        table=quote(meta.db_table),
        columns=", ".join(quote(field.column) for field in fields),
        values=", ".join(values),
        primary_key=quote(meta.pk.column),
        valued_fields=tuple(valued),
    )


def mark_saved(obj: Model, pk) -> None:
    """What `save()` does after its INSERT: the primary key, the instance's state, `post_save`."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    post_save.send(sender=type(obj), instance=obj, created=True, update_fields=None, raw=False, using=connection.alias)
