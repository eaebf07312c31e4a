"""What the escalation service does, one function per use case, on a unit of work.

Use cases never commit (the HTTP request, the consumer's poll or the timer owns the
transaction), never see a session or a status code, and raise `stopclock_shared.errors`.
"""
