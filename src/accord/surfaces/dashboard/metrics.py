"""``/metrics``: the hub's view of the store in Prometheus text (``prometheus-client``).

Read from what the hub already follows (the last lock listing, at most ``refresh``
seconds old, and the events it saw), so a scrape costs the store nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from accord.surfaces import views
from accord.surfaces.dashboard.hub import Hub

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        labels = ["namespace"]
        ns = [hub.coord.namespace]
        up = GaugeMetricFamily("accord_store_up", "1 when the store answered the last "
                               "call, else 0", labels=labels)
        up.add_metric(ns, 0.0 if hub.error else 1.0)
        yield up
        summary = views.locks_summary(hub.locks)
        held = GaugeMetricFamily("accord_locks_held", "Locks and semaphores with at least "
                                 "one holder", labels=[*labels, "kind"])
        held.add_metric([*ns, "lock"], summary["locks"])
        held.add_metric([*ns, "semaphore"], summary["semaphores"])
        yield held
        holders = GaugeMetricFamily("accord_lease_holders", "Holders of locks and "
                                    "semaphore permits", labels=labels)
        holders.add_metric(ns, sum(len(d["holders"]) for d in hub.locks))
        yield holders
        waiting = GaugeMetricFamily("accord_lock_waiters", "Agents queued for a lock or "
                                    "semaphore", labels=labels)
        waiting.add_metric(ns, summary["waiting"])
        yield waiting
        seen = CounterMetricFamily("accord_events_seen", "Events this dashboard saw "
                                   "emitted since it started", labels=labels)
        seen.add_metric(ns, hub.events_seen)
        yield seen
        clients = GaugeMetricFamily("accord_dashboard_browsers", "Browsers following "
                                    "this dashboard live")
        clients.add_metric([], hub.clients)
        yield clients


def registry(hub: Hub) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(HubCollector(hub))
    return reg


def render(reg: CollectorRegistry) -> bytes:
    return generate_latest(reg)
