"""Live events under load: delivery latency to many open streams, and what the streams cost
ordinary reads, against the served app (gunicorn) on SpatiaLite and PostGIS.

For each backend: a scratch database with the demo areas and one dispatcher; `emergency serve`
(default 2 gthread workers x 4 threads, plus the stream threads EVENTS_MAX_STREAMS_PER_WORKER
gives each worker). Then, in this order:

1. baseline: ordinary reads (GET /api/v1/areas?limit=50, the area list every page loads) from
   C clients, without streams: p50/p95;
2. S streams (default 200) are opened to GET /api/v1/events (one asyncio loop, one socket
   each; every stream must answer 200);
3. another process (started before the baseline, so its start-up is not counted against the
   streams) commits E events (default 40, one per 0.25 s, through its own engine, as another
   app host would) and prints each id with its commit time; every stream records when
   each id arrives. Meanwhile the same ordinary reads run again;
4. figures: commit -> received p50/p95/max over all (event, stream) pairs, events missed by
   any stream (must be 0), ordinary read p50/p95 with the streams and the ratio to the
   baseline of the same run; the load average before and after (the machine is shared).

    .venv/bin/python bench/bench_events.py [--backend spatialite|postgis|both] [--streams S]
        [--events E] [--reads R] [--clients C] [--quick]

--quick: 50 streams, 10 events, 100 reads. The server listens on 127.0.0.1 only; the scratch
databases are removed afterwards.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from common import cli_env, create_database, drop_database, free_port, percentile, serve, stop

PUBLISHER = r"""
import sys, time
from sqlalchemy.orm import Session
from emergency import spatial
from emergency.events.service import publish
engine = spatial.make_engine(sys.argv[1], pool_size=1)
count, gap = int(sys.argv[2]), float(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()  # started (and its imports paid for) before the baseline is measured
for n in range(count):
    with Session(engine) as s:
        s.info["actor"] = "bench"
        event_id = publish(s, "dispatch.updated", n, status="en_route", area_code="500103")
        s.commit()
        print(event_id, time.time(), flush=True)
    time.sleep(gap)
"""


def load_average():
    """The 1, 5 and 15 minute load averages as text."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def prepare(url):
    """Migrate, load the demo areas and a dispatcher with a token; returns the token."""
    from sqlalchemy.orm import Session

    from emergency import migrate, spatial
    from emergency.auth import service as auth
    from emergency.geo import demo as geo_demo

    engine = spatial.make_engine(url)
    migrate.upgrade(engine=engine)
    with Session(engine) as s:
        s.info["actor"] = "bench"
        geo_demo.load_areas(s)
        auth.create_user(s, "bench-dispatcher", "dispatcher", "correct horse battery")
        token = auth.create_token(s, "bench-dispatcher", 1)
        s.commit()
    engine.dispose()
    return token


def ordinary_reads(port, token, count, clients):
    """Latencies (s) of ``count`` GET /api/v1/areas?limit=50 from ``clients`` threads."""
    url = f"http://127.0.0.1:{port}/api/v1/areas?limit=50"
    headers = {"Authorization": f"Bearer {token}"}

    def one_client(n):
        times = []
        with requests.Session() as http:
            for _ in range(n):
                started = time.perf_counter()
                response = http.get(url, headers=headers, timeout=30)
                times.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"ordinary read answered {response.status_code}")
        return times

    per = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        return sorted(t for times in pool.map(one_client, per) for t in times)


class Streams:
    """S open event streams in one asyncio loop (its own thread); arrival times per id."""

    def __init__(self, port, token, count):
        self.port, self.token, self.count = port, token, count
        self.arrivals = [dict() for _ in range(count)]  # stream -> {event id: time}
        self.opened = 0
        self.refused = 0
        self.statuses = Counter()
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        if not self.ready.wait(120):
            raise SystemExit("streams did not open within 120 s")

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self):
        self.tasks = [asyncio.ensure_future(self._one(i)) for i in range(self.count)]
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _one(self, index):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write((f"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n"
                      f"\r\n").encode())
        await writer.drain()
        status = (await reader.readline()).decode()
        if " 200 " not in status:
            self.refused += 1
            self.statuses[status.strip()] += 1
            self.arrivals[index] = None
            self._count_open()
            writer.close()
            return
        while (await reader.readline()) not in (b"\r\n", b""):
            pass  # headers
        self._count_open()
        arrivals = self.arrivals[index]
        buffer = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                now = time.time()
                buffer += chunk
                # Chunked transfer: the frames' own lines are found inside the chunk data.
                for line in buffer.split(b"\n"):
                    if line.startswith(b"id: "):
                        try:
                            arrivals.setdefault(int(line[4:].strip()), now)
                        except ValueError:
                            pass
                buffer = buffer[buffer.rfind(b"\n") + 1:]
        finally:
            writer.close()

    def _count_open(self):
        self.opened += 1
        if self.opened == self.count:
            self.ready.set()

    def close(self):
        for task in getattr(self, "tasks", []):
            self.loop.call_soon_threadsafe(task.cancel)
        self.thread.join(10)


def run_backend(backend, folder, args):
    """One backend's figures."""
    url, _fresh = create_database(backend, folder, "events")
    proc = publisher = None
    try:
        token = prepare(url)
        env = cli_env(url, folder)
        port = free_port()
        proc = serve(env, port, log=open(os.path.join(folder, f"serve-{backend}.log"), "w"))
        print(f"\n== {backend} (load average {load_average()})", flush=True)
        publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER, url, str(args.events),
                                      "0.25"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env)
        if publisher.stdout.readline().strip() != "ready":
            raise SystemExit("the publisher did not start")
        ordinary_reads(port, token, 20, 2)  # warm the workers
        base = ordinary_reads(port, token, args.reads, args.clients)
        streams = Streams(port, token, args.streams)
        opened = time.monotonic()
        streams.start()
        print(f"  {args.streams} streams opened in {time.monotonic() - opened:.1f} s, "
              f"{streams.refused} refused {dict(streams.statuses)}", flush=True)
        time.sleep(2)
        publisher.stdin.write("go\n")
        publisher.stdin.flush()
        loaded = ordinary_reads(port, token, args.reads, args.clients)
        out, _ = publisher.communicate(timeout=300)
        commits = {int(line.split()[0]): float(line.split()[1]) for line in out.split("\n")
                   if line.strip()}
        time.sleep(3)  # the last events reach every stream
        latencies, missed = [], 0
        for arrivals in streams.arrivals:
            if arrivals is None:
                continue  # refused
            for event_id, committed in commits.items():
                if event_id in arrivals:
                    latencies.append(max(0.0, arrivals[event_id] - committed))
                else:
                    missed += 1
        streams.close()
        latencies.sort()
        figures = {
            "backend": backend, "streams": args.streams - streams.refused,
            "events": len(commits),
            "delivery_p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
            "delivery_p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
            "delivery_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
            "missed": missed,
            "read_p50_ms_without": round(percentile(base, 50) * 1000, 1),
            "read_p95_ms_without": round(percentile(base, 95) * 1000, 1),
            "read_p50_ms_with": round(percentile(loaded, 50) * 1000, 1),
            "read_p95_ms_with": round(percentile(loaded, 95) * 1000, 1),
        }
        figures["read_p95_ratio"] = round(figures["read_p95_ms_with"]
                                          / figures["read_p95_ms_without"], 2)
        for key, value in figures.items():
            print(f"  {key}: {value}", flush=True)
        print(f"  load average after: {load_average()}", flush=True)
        return figures
    finally:
        if publisher is not None and publisher.poll() is None:
            publisher.kill()
            publisher.wait()
        if proc is not None:
            stop(proc)
        drop_database(url)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--reads", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.streams, args.events, args.reads = 50, 10, 100
    backends = ["spatialite", "postgis"] if args.backend == "both" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-events-") as folder:
        for backend in backends:
            results.append(run_backend(backend, folder, args))
    print("\n" + json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
