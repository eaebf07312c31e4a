"""``python -m stopclock_notification``: migrate, then serve the API and run the consumers."""

from stopclock_shared.runtime import serve

from .app import NotificationSettings, create_app

if __name__ == "__main__":
    settings = NotificationSettings()
    serve(settings, create_app(settings))
