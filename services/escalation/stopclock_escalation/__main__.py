"""``python -m stopclock_escalation``: migrate, then serve the API and run the consumers."""

from stopclock_shared.runtime import serve

from .app import EscalationSettings, create_app

if __name__ == "__main__":
    settings = EscalationSettings()
    serve(settings, create_app(settings))
