"""Items that are not pages: other apps register how their items travel through the feed and pull.

The federation protocol (envelopes, records, seq, the feed, subscriptions, media by sha256) is the
same for every kind. Pages (news, activities, resources) are built and applied by this app itself;
a capability whose items are plain models (training courses) registers an `ItemKind` from its
AppConfig.ready(): federation calls it, and never imports that app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ItemKind:
    kind: str
    # sha256 of every file the envelope's payload refers to (fetched before `apply`).
    assets: Callable[[dict], set[str]]
    # Create, update or withdraw the local copy, inside the item's transaction; returns one of
    # federation.pull.COUNTS ("created", "updated", "unpublished", "deleted", "skipped").
    apply: Callable[[dict, dict, list[str]], str]


REGISTRY: dict[str, ItemKind] = {}


def register(item_kind: ItemKind) -> None:
    REGISTRY[item_kind.kind] = item_kind


def get(kind: str) -> ItemKind | None:
    return REGISTRY.get(kind)
