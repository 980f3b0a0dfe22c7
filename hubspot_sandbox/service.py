"""`Sandbox`: the account model served over HTTP on 127.0.0.1, with its limits, faults and clock."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterable
from types import TracebackType

import requests

from hubspot_sandbox.auth import TokenRegistry
from hubspot_sandbox.config import SandboxConfig
from hubspot_sandbox.dispatch import Dispatcher
from hubspot_sandbox.errors import ApiError, error_body, not_activated
from hubspot_sandbox.faults import FaultInjector
from hubspot_sandbox.journal import JournalService
from hubspot_sandbox.limits import RateLimiter, RateLimitSettings
from hubspot_sandbox.locking import RWLock
from hubspot_sandbox.model import Account, ObjectType
from hubspot_sandbox.model.types import ACTIVATABLE_TYPES
from hubspot_sandbox.record_failures import RecordFailureRule, RecordFailures
from hubspot_sandbox.routes import ROUTES, Router
from hubspot_sandbox.server import SandboxHTTPServer


class Sandbox:
    """A local HubSpot: `with Sandbox(SandboxConfig(...)) as sb:` then point a client at `sb.base_url`.

    `account` is the ground truth. `calls` counts every request a HubSpot route received, whatever
    the answer (401, 429 and injected faults included), keyed "<METHOD> <route template>";
    `rejected` counts the subset refused before reaching the endpoint or hit by a fault, keyed
    "<status or fault kind> <METHOD> <route template>". Control routes and unknown paths count nowhere.
    """

    def __init__(
        self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SandboxConfig()
        cfg = self.config
        self.account = Account(cfg.seed, cfg.scale, cfg.start_date, wide=cfg.wide)
        self.lock = RWLock()
        self.tokens = TokenRegistry()
        self.tokens.add(cfg.token)
        self.journal = JournalService(self.account, cfg.seed)  # webhooks journal: apps, subscriptions
        self.limiter = RateLimiter(
            RateLimitSettings(cfg.rate_limits, cfg.burst, cfg.daily, cfg.search_per_second, cfg.retry_after),
            portal_id=self.account.portal_id,
        )
        self.faults = FaultInjector(cfg.seed, cfg.failure_rate)
        self.record_failures = RecordFailures(cfg.seed)
        for rule in cfg.record_failures:
            self._add_record_failure(rule)
        self.search_lag_seconds = float(cfg.search_lag_seconds)
        self._deactivated: set[str] = {self._activatable(ref) for ref in cfg.deactivated_types}
        self._calls: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._counter_lock = threading.Lock()
        self._address = (host, port)
        self._dispatcher = Dispatcher(self, Router(ROUTES))
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is None:
            self._server = SandboxHTTPServer(self._address, self._dispatcher)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="hubspot-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            if self._thread is not None:
                self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """ "host:port" the server listens on (the port is chosen by the OS when 0 was asked for)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    def session(self, token: str | None = None) -> requests.Session:
        """A keep-alive `requests.Session` sending `Authorization: Bearer <token>` (default: the config's)."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token or self.config.token}"
        return session

    # -- the clock ----------------------------------------------------------------------------------

    def advance(self, days: int = 1, bulk_update: int = 0) -> None:
        """Apply `days` deterministic days of changes; the daily API allowance resets with each day."""
        with self.lock.write():
            self.account.advance(days, bulk_update)
            self.limiter.new_day()

    def restore(self, type_ref: str, record_id: int | str, *, touch: bool = True) -> None:
        """Restore an archived record from the recycle bin (`Account.restore`): live again everywhere."""
        with self.lock.write():
            self.account.restore(type_ref, int(record_id), touch=touch)

    # -- hostility ----------------------------------------------------------------------------------

    def add_token(
        self, token: str, scopes: Iterable[str] | None = None, expires_at: dt.datetime | None = None
    ) -> None:
        self.tokens.add(token, scopes, expires_at)

    def add_app(self, client_id: str, client_secret: str, scopes: Iterable[str] | None = None) -> None:
        """An OAuth app that may get client-credentials tokens (`scopes` None: any) for the journal."""
        self.journal.add_app(client_id, client_secret, scopes)

    def set_rate_limits(
        self,
        enabled: bool = True,
        burst: int = 100,
        daily: int = 250_000,
        search_per_second: int = 5,
        retry_after: int | None = None,
    ) -> None:
        self.limiter.configure(
            enabled=enabled,
            burst=burst,
            daily=daily,
            search_per_second=search_per_second,
            retry_after=retry_after,
        )

    def inject_fault(self, kind: str, count: int = 1, path_prefix: str | None = None) -> None:
        self.faults.inject(kind, count, path_prefix)

    def set_failure_rate(self, rate: float = 0.0, kinds: Iterable[str] | None = None) -> None:
        self.faults.set_failure_rate(rate, kinds)

    def set_record_failures(
        self,
        type_ref: str,
        *,
        ids: Iterable[int | str] | None = None,
        share: float = 0.0,
        category: str = "INTERNAL_ERROR",
        message: str | None = None,
        times: int | None = None,
        property: str | None = None,
    ) -> RecordFailureRule:
        """Add a rule failing records of one type in object batch reads (207 errors; see README).

        `ids` and/or a deterministic `share` choose the records; `times=None` fails every read,
        `times=N` each chosen record's first N reads. Rules add up; `clear_record_failures()` ends them.
        """
        rule = RecordFailureRule(
            type_ref, frozenset(str(i) for i in ids or ()), share, category, message, times, property
        )
        self._add_record_failure(rule)
        return rule

    def clear_record_failures(self) -> None:
        self.record_failures.clear()

    def record_failure_ids(self, type_ref: str) -> list[int]:
        """Ids of the type's records some rule chooses (whether or not their failing reads are used up)."""
        type_id = self.resolve_type(type_ref).type_id
        with self.lock.read():
            ids = self.account.tables[type_id].ids.tolist()
        return [i for i in ids if self.record_failures.chosen(type_id, i)]

    def _add_record_failure(self, rule: RecordFailureRule) -> None:
        object_type = self.account.resolve_type(rule.type_ref)
        if object_type is None:
            raise KeyError(f"unknown object type {rule.type_ref!r}")
        self.record_failures.add(rule, object_type.type_id)

    # -- the object library's activation ---------------------------------------------------------

    def _activatable(self, type_ref: str) -> str:
        object_type = self.account.resolve_type(type_ref)
        if object_type is None or object_type.type_id not in ACTIVATABLE_TYPES:
            raise ValueError(f"{type_ref!r} is not an activatable object type; those are {ACTIVATABLE_TYPES}")
        return object_type.type_id

    def activate_type(self, type_ref: str) -> None:
        """Activate an object-library type (appointments, courses, listings, services) at run time."""
        type_id = self._activatable(type_ref)
        with self.lock.write():
            self._deactivated.discard(type_id)

    def deactivate_type(self, type_ref: str) -> None:
        """Deactivate an activatable type: its objects, search, associations, properties and pipelines
        endpoints answer the not-activated error until it is activated again. Its records are kept."""
        type_id = self._activatable(type_ref)
        with self.lock.write():
            self._deactivated.add(type_id)

    def is_activated(self, type_id: str) -> bool:
        """False only for an activatable type the account has deactivated."""
        return type_id not in self._deactivated

    def enablement(self) -> dict[str, bool]:
        """Activatable type id -> whether the account has it activated (the enablement endpoint's body)."""
        return {type_id: self.is_activated(type_id) for type_id in ACTIVATABLE_TYPES}

    def set_search_lag(self, seconds: float) -> None:
        self.search_lag_seconds = float(seconds)

    # -- counters -----------------------------------------------------------------------------------

    @property
    def calls(self) -> Counter[str]:
        with self._counter_lock:
            return Counter(self._calls)

    @property
    def rejected(self) -> Counter[str]:
        with self._counter_lock:
            return Counter(self._rejected)

    def total_calls(self) -> int:
        with self._counter_lock:
            return sum(self._calls.values())

    def reset_calls(self) -> None:
        with self._counter_lock:
            self._calls.clear()
            self._rejected.clear()

    def record_call(self, key: str) -> None:
        with self._counter_lock:
            self._calls[key] += 1

    def record_rejection(self, key: str) -> None:
        with self._counter_lock:
            self._rejected[key] += 1

    # -- shared by the endpoints --------------------------------------------------------------------

    def resolve_type(self, ref: str) -> ObjectType:
        """The object type a path names, or HubSpot's 400 for a name it cannot infer (or, for a
        deactivated object-library type, the not-activated error)."""
        object_type = self.account.resolve_type(ref)
        if object_type is None:
            raise ApiError(400, error_body(f"Unable to infer object type from: {ref}", "VALIDATION_ERROR"))
        if object_type.type_id in self._deactivated:
            raise not_activated(object_type.type_id, object_type.name)
        return object_type
