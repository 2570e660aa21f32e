from django.urls import path

from arrears.web import views

app_name = "web"
urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("today/", views.today_page, name="today"),
    path("accounts/<str:account_id>/", views.account_ledger, name="ledger"),
]
