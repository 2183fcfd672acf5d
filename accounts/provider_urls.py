"""The account service's OAuth/OIDC endpoints: only what the tenant sites use.

django-oauth-toolkit's own urls.py also mounts application management (any signed-in person
could register a client), dynamic client registration, the device flow and introspection; none
of that is offered here, so none of it is reachable. Names stay in the `oauth2_provider`
namespace because the library reverses them.
"""

from django.urls import path, re_path
from oauth2_provider import views

from . import oidc

app_name = "oauth2_provider"
urlpatterns = [
    path("authorize/", oidc.ProviderAuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path(".well-known/jwks.json", views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", oidc.ProviderUserInfoView.as_view(), name="user-info"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        oidc.ProviderDiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
]
