from django_tenants.files.storage import TenantFileSystemStorage


class TenantMediaStorage(TenantFileSystemStorage):
    """Media of tenant <schema> under MEDIA_ROOT/<schema>/, URLs under /media/<schema>/.

    The schema is read at every call (never cached), so a storage object reused
    across tenants writes each file into the right tenant's folder.
    """
