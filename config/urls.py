from django.urls import include, path

from arrears.api.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("arrears.web.urls")),
]

handler500 = "arrears.web.views.server_error"  # a database too busy for a write is a 503
