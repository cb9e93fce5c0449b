"""Protected sets kept in this process's memory, in front of the store (`atlas.protection.store`): each worked out
once per key, by one thread, while any other thread asking for it waits for that result: the server protects the
default period in the background (`atlas.app.prefetch`), and a visitor arriving meanwhile must not do it all
again. Layer: computing, no data."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class Kept(OrderedDict):
    """At most `size` results by key, the oldest dropped first. A key whose first part (the database's version)
    is None is worked out every time and not kept: without a file's identity, a result could outlive its data."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self._lock = threading.Lock()
        self._making: dict[tuple, threading.Lock] = {}  # a lock per key being worked out

    def get_or_make(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key[0] is None:
            return make()
        with self._lock:
            if key in self:
                return self[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self:
                    return self[key]
            made = make()
            with self._lock:
                self[key] = made
                while len(self) > self.size:
                    self.popitem(last=False)
                self._making.pop(key, None)
        return made
