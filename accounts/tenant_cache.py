"""Permission caches on a User object, kept per tenant schema.

Django's ModelBackend caches permissions on the user object (`_perm_cache`,
`_user_perm_cache`, `_group_perm_cache`) and Wagtail's permission policies do the
same (`_page_permission_cache`, ...). Roles are per tenant here, so a User object
that is reused after the connection switched schema (a task, a test, a long
request that enters tenant_context) would otherwise keep tenant A's permissions
in tenant B. These attributes are stored per schema instead.
"""

from __future__ import annotations

from django.db import connection

TENANT_SCOPED_CACHES = frozenset(
    {
        "_perm_cache",
        "_user_perm_cache",
        "_group_perm_cache",
        "_page_permission_cache",
        "_collection_permission_cache",
        "_site_permission_cache",
        "_explorable_root_page_cache",
    }
)
_STORE = "_tenant_permission_caches"


def _current_schema() -> str:
    return getattr(connection, "schema_name", "public")


class TenantScopedPermissionCacheMixin:
    def __getattr__(self, name: str):
        # Only reached when normal lookup fails, i.e. for names not in __dict__.
        if name in TENANT_SCOPED_CACHES:
            caches = self.__dict__.get(_STORE, {}).get(_current_schema(), {})
            if name in caches:
                return caches[name]
        raise AttributeError(name)

    def __setattr__(self, name: str, value) -> None:
        if name in TENANT_SCOPED_CACHES:
            self.__dict__.setdefault(_STORE, {}).setdefault(_current_schema(), {})[name] = value
        else:
            super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if name in TENANT_SCOPED_CACHES:
            caches = self.__dict__.get(_STORE, {}).get(_current_schema(), {})
            if name not in caches:
                raise AttributeError(name)
            del caches[name]
        else:
            super().__delattr__(name)
