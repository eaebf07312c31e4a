"""``python -m stopclock_sla``: migrate, then serve the API and run the consumer and timers."""

from stopclock_shared.runtime import serve

from .app import create_app
from .settings import SlaSettings

if __name__ == "__main__":
    settings = SlaSettings()
    serve(settings, create_app(settings))
