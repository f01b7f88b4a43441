"""Production serving with gunicorn."""

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    """A gunicorn application that builds the Flask app in each worker."""

    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        """Apply our options to gunicorn's config."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """Create the app (after fork, so each worker has its own connections)."""
        from emergency import create_app

        return create_app()


def run(host, port, workers=2, threads=8):
    """Serve until interrupted."""
    _Server({"bind": f"{host}:{port}", "workers": workers, "threads": threads,
             "worker_class": "gthread", "timeout": 120, "accesslog": "-",
             "graceful_timeout": 20}).run()
