import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
pages = get_wsgi_application()

from arrears.web.health import with_health  # noqa: E402 - needs the settings loaded above
from config.secret import secret_key_problem  # noqa: E402 - asks the settings loaded above

if problem := secret_key_problem():
    raise ImproperlyConfigured(problem)
application = with_health(pages)  # /healthz, for a load balancer (docs/scaling.md)
