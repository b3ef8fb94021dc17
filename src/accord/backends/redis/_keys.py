"""The key names of a namespace on Redis: one hash tag per namespace, so that every
key of it is in one Cluster slot. Shared by both twins (nothing here does I/O)."""

from __future__ import annotations


class Keys:
    """The key names of one namespace, all under one hash tag."""

    def __init__(self, namespace: str) -> None:
        tag = namespace.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
        self.prefix = p = f"accord:{{{tag}}}:"
        self.leases = f"{p}leases"
        self.events = f"{p}events"
        self.epoch = f"{p}epoch"
        self.layout = f"{p}layout"

    def lease(self, key: str) -> str:
        return f"{self.prefix}lease:{key}"

    def state_base(self, map_name: str) -> str:
        return f"{self.prefix}state:{len(map_name)}:{map_name}:"

    def state(self, map_name: str, key: str) -> str:
        return self.state_base(map_name) + key

    def live_keys(self, map_name: str) -> str:
        return f"{self.prefix}keys:{map_name}"

    def barrier(self, name: str) -> str:
        return f"{self.prefix}barrier:{name}"
