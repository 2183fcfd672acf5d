from django_tenants.files.storage import TenantFileSystemStorage


class TenantMediaStorage(TenantFileSystemStorage):
    """Media of tenant <schema> under MEDIA_ROOT/<schema>/, URLs under /media/<schema>/.

    The schema is read at every call (never cached), so a storage object reused
    across tenants writes each file into the right tenant's folder.
    """

    def _clear_cached_properties(self, setting, **kwargs):
        # django-tenants passes the settings object instead of the setting name to
        # its parent, so a changed MEDIA_ROOT/MEDIA_URL never reached the cached paths.
        super()._clear_cached_properties(setting, **kwargs)
        if setting in ("MEDIA_ROOT", "MULTITENANT_RELATIVE_MEDIA_ROOT"):
            self.__dict__.pop("relative_media_root", None)
        if setting in ("MEDIA_URL", "MULTITENANT_RELATIVE_MEDIA_ROOT"):
            self.__dict__.pop("relative_media_url", None)
