from django.urls import path

from . import catalogue_views, oai_views, views

app_name = "federation"
urlpatterns = [
    path("federation/inbox/", views.endpoint, name="inbox"),
    path("federation/feed/", views.endpoint, name="feed"),
    path("federation/statistics/", views.endpoint, name="statistics"),
    path("oai/", oai_views.endpoint, name="oai"),
    path("oai/culture.xsd", oai_views.culture_schema, name="oai_culture_schema"),
    path("catalogue/", catalogue_views.catalogue_list, name="catalogue"),
    path("catalogue/<uuid:uid>/", catalogue_views.catalogue_detail, name="catalogue_record"),
]
