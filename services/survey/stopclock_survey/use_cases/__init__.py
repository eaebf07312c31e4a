"""What the survey service does, one function per use case, on a `UnitOfWork[SurveyRepository]`."""
