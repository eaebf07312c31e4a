"""What the routes are handed: the service's settings and the request's unit of work."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from stopclock_shared.db import SessionDep
from stopclock_shared.runtime import Runtime, settings_dependency
from stopclock_shared.unit_of_work import UnitOfWork

from .repository import SurveyRepository, unit_of_work
from .settings import SurveySettings

SettingsDep = Annotated[SurveySettings, Depends(settings_dependency(SurveySettings))]


def request_unit_of_work(session: SessionDep, request: Request) -> UnitOfWork[SurveyRepository]:
    """The request's transaction (committed when the route returns, rolled back if it
    raises) with the survey repository and the outbox."""
    runtime: Runtime = request.app.state.runtime
    return unit_of_work(session, runtime.outbox)


UnitOfWorkDep = Annotated[UnitOfWork[SurveyRepository], Depends(request_unit_of_work)]
