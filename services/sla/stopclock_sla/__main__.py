"""``python -m stopclock_sla``: migrate, then serve the API and run the consumers."""

from stopclock_shared.runtime import serve

from .app import SlaSettings, create_app

if __name__ == "__main__":
    settings = SlaSettings()
    serve(settings, create_app(settings))
