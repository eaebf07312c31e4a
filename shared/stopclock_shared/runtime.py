"""What every service process is: one FastAPI app whose lifespan owns the engine, the
producer, the outbox relay and the Kafka consumers, served by uvicorn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from . import metrics, openapi
from .consumer import EventConsumer, PartitionHook
from .db import make_engine, make_sessionmaker
from .event_routes import Routes
from .http_guards import RequestGuard
from .kafka import make_producer
from .logs import CorrelationMiddleware, configure_logging
from .migrate import upgrade
from .outbox import Outbox, OutboxRelay
from .problems import install_problem_handlers
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The resources a service's lifespan builds and hands to routes, consumers and tasks."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer
    outbox: Outbox
    processed: Table
    relay: OutboxRelay | None = None
    consumers: list[EventConsumer] = field(default_factory=list)
    # The service's own runtime objects (policy catalog, timers, ...), one typed dataclass
    # per service, set by its ``on_ready``; read with `state_of` / `state_dependency`.
    state: object = None
    # Service-specific readiness checks (name -> "ok" or why not), e.g. a listener bound;
    # /readyz answers 503 until every one says "ok".
    readiness: dict[str, Callable[[], str]] = field(default_factory=dict)

    def consumer(
        self,
        name: str,
        topics: Sequence[str],
        routes: Routes,
        *,
        on_assigned: PartitionHook | None = None,
        on_revoked: PartitionHook | None = None,
        fetch_max_wait_ms: int = 500,
    ) -> EventConsumer:
        """A member of this service's consumer group applying ``routes`` from ``topics``."""
        return EventConsumer(
            service=self.settings.service_name,
            name=name,
            topics=topics,
            routes=routes,
            sessionmaker=self.sessionmaker,
            processed=self.processed,
            producer=self.producer,
            bootstrap=self.settings.kafka_bootstrap,
            group_id=self.settings.group_id,
            on_assigned=on_assigned,
            on_revoked=on_revoked,
            fetch_max_wait_ms=fetch_max_wait_ms,
        )


S = TypeVar("S")


def state_of(runtime: Runtime, kind: type[S]) -> S:
    """The service's runtime state, checked to be its ``kind``."""
    state = runtime.state
    if not isinstance(state, kind):
        raise RuntimeError(f"runtime state is {type(state).__name__}, not {kind.__name__}")
    return state


def state_dependency(kind: type[S]) -> Callable[[Request], S]:
    """A FastAPI dependency giving a route the service's state:
    ``StateDep = Annotated[SlaState, Depends(state_dependency(SlaState))]``."""

    def dependency(request: Request) -> S:
        return state_of(request.app.state.runtime, kind)

    return dependency


def settings_dependency(kind: type[S]) -> Callable[[Request], S]:
    """A FastAPI dependency giving a route the service's settings, typed."""

    def dependency(request: Request) -> S:
        settings = request.app.state.settings
        if not isinstance(settings, kind):
            raise RuntimeError(f"settings are {type(settings).__name__}, not {kind.__name__}")
        return settings

    return dependency


ConsumerFactory = Callable[[Runtime], Sequence[EventConsumer]]
TaskFactory = Callable[[Runtime], Sequence[tuple[str, Callable[[], Awaitable[None]]]]]


async def supervise(name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Keep a background loop alive: a crash is logged and the loop restarted, never silent."""
    while True:
        try:
            await run()
            log.warning("task %s returned; restarting", name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("task %s crashed; restarting in 1 s", name)
        await asyncio.sleep(1)


async def start_producer(settings: Settings, timeout: float = 90.0) -> AIOKafkaProducer:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        producer = make_producer(settings.kafka_bootstrap, f"stopclock-{settings.service_name}")
        try:
            await producer.start()
            return producer
        except KafkaError:
            await producer.stop()
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("kafka not reachable at %s; retrying", settings.kafka_bootstrap)
            await asyncio.sleep(1)


def create_service_app(
    settings: Settings,
    *,
    title: str,
    description: str,
    outbox_table: Table,
    processed_table: Table,
    routers: Sequence[APIRouter] = (),
    consumers: ConsumerFactory | None = None,
    tasks: TaskFactory | None = None,
    on_ready: Callable[[Runtime], Awaitable[None]] | None = None,
) -> FastAPI:
    """Build a service's app: problem handlers, metrics, health, readiness and the lifespan."""
    service = settings.service_name

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, settings.log_level, settings.log_json)
        engine = make_engine(settings.database_url, settings.db_pool_size)
        producer = await start_producer(settings)
        outbox = Outbox(outbox_table, service)
        runtime = Runtime(
            settings=settings,
            engine=engine,
            sessionmaker=make_sessionmaker(engine),
            producer=producer,
            outbox=outbox,
            processed=processed_table,
        )
        app.state.runtime = runtime
        app.state.sessionmaker = runtime.sessionmaker
        background: list[asyncio.Task[None]] = []

        def spawn(name: str, run: Callable[[], Awaitable[None]]) -> None:
            background.append(asyncio.create_task(supervise(name, run), name=name))

        if settings.relay_enabled:
            runtime.relay = OutboxRelay(
                engine=engine, outbox=outbox, producer=producer, service=service
            )
            spawn("outbox-relay", runtime.relay.run)
            spawn("outbox-watch", runtime.relay.watch)
        if on_ready is not None:
            await on_ready(runtime)
        if consumers is not None and settings.consumers_enabled:
            for consumer in consumers(runtime):
                runtime.consumers.append(consumer)
                spawn(f"consumer-{consumer.name}", consumer.run)
        if tasks is not None:
            for name, run in tasks(runtime):
                spawn(name, run)
        log.info("%s started on port %s", service, settings.service_port)
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await producer.stop()
            await engine.dispose()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    install_problem_handlers(app)
    openapi.install(app)
    app.add_middleware(RequestGuard, max_bytes=settings.max_body_bytes)
    app.add_middleware(metrics.HttpMetricsMiddleware, service=service)
    app.add_middleware(CorrelationMiddleware)

    @app.get("/healthz", tags=["ops"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Database and Kafka reachable, consumers joined their groups (503 otherwise)",
    )
    async def readyz() -> JSONResponse:
        runtime: Runtime = app.state.runtime
        # Both at once, each bounded: a probe must answer 503 promptly while a part is down.
        db, kafka = await asyncio.gather(_check_db(runtime), _check_kafka(runtime))
        checks = {"database": db, "kafka": kafka}
        if runtime.consumers:
            # Not ready until every consumer has its partitions: before that the service
            # applies no events and owns no timers (e.g. after a replica was killed).
            waiting = [c.name for c in runtime.consumers if not c.joined]
            checks["consumers"] = "ok" if not waiting else f"joining: {', '.join(waiting)}"
        for name, check in runtime.readiness.items():
            checks[name] = check()
        ok = all(v == "ok" for v in checks.values())
        metrics.READY.labels(service).set(1 if ok else 0)
        body = {"status": "ready" if ok else "not ready", "service": service, "checks": checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics (text exposition format)",
        response_class=Response,
    )
    async def prometheus_metrics() -> Response:
        return metrics.metrics_response()

    for router in routers:
        app.include_router(router)
    return app


READY_CHECK_SECONDS = 1.0


async def _check_db(runtime: Runtime) -> str:
    try:
        async with asyncio.timeout(READY_CHECK_SECONDS):
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


async def _check_kafka(runtime: Runtime) -> str:
    try:
        async with asyncio.timeout(READY_CHECK_SECONDS):
            await runtime.producer.client.fetch_all_metadata()
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


def serve(settings: Settings, app: FastAPI, *, migrate: bool = True) -> None:
    """The process entry point: migrate the schema, then serve until SIGTERM/SIGINT."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    if migrate:
        upgrade(settings.service_name, settings.database_url)
    uvicorn.run(
        app,
        host=settings.service_host,
        port=settings.service_port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=10,
    )
