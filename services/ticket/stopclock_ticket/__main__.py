"""``python -m stopclock_ticket``: migrate, then serve the API and run the consumers."""

from stopclock_shared.runtime import serve

from .app import create_app
from .settings import TicketSettings

if __name__ == "__main__":
    settings = TicketSettings()
    serve(settings, create_app(settings))
