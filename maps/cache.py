"""A thread-safe least-recently-used store bounded by weight, for map geometries and responses."""

import threading
from collections import OrderedDict


class LRU:
    """A thread-safe least-recently-used store bounded by the total weight of its values
    (``weigh(value)``, 1 each unless given: a count of entries)."""

    def __init__(self, max_weight, weigh=None):
        """An empty store holding at most ``max_weight``."""
        self.max_weight, self.weigh = max_weight, weigh or (lambda _value: 1)
        self.items, self.weight, self.lock = OrderedDict(), 0, threading.Lock()

    def get(self, key):
        """The value or None."""
        with self.lock:
            found = self.items.get(key)
            if found is None:
                return None
            self.items.move_to_end(key)
            return found[0]

    def put(self, key, value):
        """Keep a value, dropping the least recently used beyond the bound."""
        weight = self.weigh(value)
        with self.lock:
            old = self.items.pop(key, None)
            self.weight += weight - (old[1] if old else 0)
            self.items[key] = (value, weight)
            while self.items and self.weight > self.max_weight:
                _key, (_value, dropped) = self.items.popitem(last=False)
                self.weight -= dropped

    def clear(self):
        """Forget everything."""
        with self.lock:
            self.items.clear()
            self.weight = 0
