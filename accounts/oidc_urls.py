"""Unified sign-in through the national account service (for hosts outside the platform domain).

Kept out of the language-prefixed URLs: the callback address is registered with the provider.
"""

from django.urls import path

from . import oidc

urlpatterns = [
    path("oidc/authenticate/", oidc.AuthenticationRequestView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.AuthenticationCallbackView.as_view(), name="oidc_authentication_callback"),
]
