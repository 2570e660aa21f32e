from django.urls import include, path

urlpatterns = [
    path("", include("arrears.web.urls")),
]
