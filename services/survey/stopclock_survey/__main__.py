"""``python -m stopclock_survey``: migrate, then serve the API and run the consumers."""

from stopclock_shared.runtime import serve

from .app import SurveySettings, create_app

if __name__ == "__main__":
    settings = SurveySettings()
    serve(settings, create_app(settings))
