"""ContentType cache kept per tenant schema instead of being thrown away at every tenant switch.

ContentType ids differ between schemas, so django-tenants clears Django's ContentType cache
whenever the connection changes tenant — at every request. Every `page.specific` then costs a
query again. Keying the cache by schema keeps what is true (ids are stable within a schema)
and drops nothing that could leak between schemas.
"""

from __future__ import annotations

from django.db import connection


class PerSchemaContentTypeCache(dict):
    """Stands in for ContentTypeManager._cache ({db alias: {key: ContentType}}), one per schema."""

    def __init__(self):
        super().__init__()
        self._by_schema: dict[str, dict] = {}

    def _current(self) -> dict:
        return self._by_schema.setdefault(getattr(connection, "schema_name", "public"), {})

    def __getitem__(self, alias):
        return self._current()[alias]

    def setdefault(self, alias, default=None):
        return self._current().setdefault(alias, default)

    def clear(self) -> None:
        # Called by django-tenants at every tenant switch: the other schemas' entries stay
        # valid, so only the current schema's are dropped when asked explicitly (forget_schema).
        pass

    def forget_schema(self, schema_name: str) -> None:
        """A schema was created, replaced or dropped: its ids may have changed."""
        self._by_schema.pop(schema_name, None)


def install() -> None:
    from django.contrib.contenttypes.models import ContentType

    if not isinstance(ContentType.objects._cache, PerSchemaContentTypeCache):
        ContentType.objects._cache = PerSchemaContentTypeCache()


def forget_schema(schema_name: str) -> None:
    from django.contrib.contenttypes.models import ContentType

    cache = ContentType.objects._cache
    if isinstance(cache, PerSchemaContentTypeCache):
        cache.forget_schema(schema_name)
