"""The REST API (django-ninja) over the services and selectors."""
