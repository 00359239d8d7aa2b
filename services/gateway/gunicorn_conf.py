"""gunicorn settings for the gateway, from the environment (see README.md)."""

import os
from typing import Any

from gunicorn.glogging import Logger

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("COMPOUND_WEB_WORKERS", "2"))
threads = int(os.environ.get("COMPOUND_WEB_THREADS", "4"))
worker_class = "gthread"
keepalive = 5
graceful_timeout = 10
timeout = 30
accesslog = None
errorlog = "-"
loglevel = os.environ.get("COMPOUND_LOG_LEVEL", "info").lower()
# gunicorn's control socket lives at one path per user; two copies side by side would clash.
control_socket_disable = True
# Each worker gets its own listening socket (SO_REUSEPORT), so the kernel spreads keep-alive
# connections over the workers instead of one worker accepting them all.
reuse_port = True


class GatewayLogger(Logger):
    """gunicorn's logger, naming the address in the arbiter's "Listening at" line. With
    ``reuse_port`` each worker binds its own socket and the arbiter holds none, so gunicorn
    logged "Listening at:  (pid)" with nothing where the address belongs."""

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if msg.startswith("Listening at:") and args and not args[0]:
            addresses = ",".join(f"http://{address}" for address in self.cfg.bind)
            args = (addresses, *args[1:])
        super().info(msg, *args, **kwargs)


logger_class = GatewayLogger


def pre_request(worker: object, req: object) -> None:
    """Replaces gunicorn's default, which logs every path at DEBUG: paths may hold the signed
    tokens of invitation and feedback links, and the gateway logs each request itself
    (services/gateway/logs.py, tokens masked)."""
