from django.urls import path

from . import views

app_name = "feedback"
urlpatterns = [
    path("me/feedback/", views.mine, name="mine"),
    path("feedback/rate/<str:kind>/<int:target_id>/", views.rate, name="rate"),
    path("feedback/demand/", views.demand, name="demand"),
    path("feedback/demand/mine/", views.demand_mine, name="demand_mine"),
]
