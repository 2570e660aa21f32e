"""`arrears serve`: waitress in one process, or in several worker processes fed by one acceptor.

With `--workers N`, N waitress processes serve pages on every core (Python runs one thread at a
time per process). A browser's keep-alive connection stays with the process that took it, and
every request on it waits behind that process's other connections; so with more than one worker,
this process only accepts: it hands each new connection to the next worker in turn, over a Unix
socket (SCM_RIGHTS), as Node's cluster module does on Linux, and the workers serve them.

Each worker serves one request at a time by default (`--threads 1`), the pre-fork model of
gunicorn's default worker: a long request (a large export) holds up the other connections of its
worker; `--threads 2` or more workers than cores soften that. The objects made at start-up are
frozen before the workers fork (`gc.freeze`, as gunicorn's documentation advises for preloaded
apps; it also keeps them shared between the processes), and a collection waits for 20,000 new
objects. What each of these was measured to save: the README's benchmarks, "The workspace under
load".
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from typing import Any

from waitress.server import TcpWSGIServer

IDENT = "arrears"


class HandedServer(TcpWSGIServer):
    """A waitress server whose connections come from the acceptor process over a Unix socket,
    one file descriptor a message, instead of from a listening socket of its own."""

    def __init__(self, application: Any, handoff: socket.socket, address: tuple, **kw: Any):
        self._address = address
        sockinfo = (socket.AF_INET, socket.SOCK_STREAM, 0, address)
        # waitress makes the task dispatcher with `threads` (in kw) threads
        super().__init__(
            application, map={}, _sock=handoff, sockinfo=sockinfo, bind_socket=False, **kw
        )

    def set_reuse_addr(self) -> None:  # a Unix socket: nothing to reuse
        pass

    def getsockname(self) -> tuple:
        return self._address[:2]

    def accept_connections(self) -> None:
        self.accepting = True  # readable whenever the acceptor has sent a connection

    def accept(self) -> tuple[socket.socket, Any] | None:
        try:
            _, fds, _, _ = socket.recv_fds(self.socket, 1, 1)
        except BlockingIOError:
            return None
        if not fds:  # the acceptor has gone: stop serving
            raise SystemExit(0)
        conn = socket.socket(fileno=fds[0])
        try:
            return conn, conn.getpeername()
        except OSError:  # the client left before it was served
            conn.close()
            return None


def serve(
    application: Any, host: str, port: int, workers: int, threads: int, trusted_proxy: str = ""
) -> int:
    """Serve until SIGTERM or Ctrl-C; with workers > 1, hand connections to them in turn. A
    request from `trusted_proxy`'s address (a reverse proxy ending TLS) comes by the scheme its
    X-Forwarded-Proto says; waitress drops the header from anyone else."""
    from waitress import serve as waitress_serve

    options: dict[str, Any] = {"threads": threads, "ident": IDENT}
    if trusted_proxy:
        options.update(trusted_proxy=trusted_proxy, trusted_proxy_headers={"x-forwarded-proto"})

    if not hasattr(socket, "SOCK_SEQPACKET"):  # no passing of connections here: one process
        workers = 1
    # With one thread a worker, every request that arrives while another is served is "queued":
    # waitress warns of each (several hundred lines a minute under load). Its other warnings stay.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, *gc.get_threshold()[1:])
    listener = socket.create_server((host, port), backlog=1024)
    address = listener.getsockname()
    print(
        f"Serving Arrears on http://{host}:{address[1]}/ with {workers} worker(s) (Ctrl-C stops)",
        flush=True,
    )
    if workers == 1:
        return _until_stopped(lambda: waitress_serve(application, sockets=[listener], **options))
    ends: list[socket.socket] = []
    children: list[int] = []
    for _ in range(workers):
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            listener.close()
            mine.close()
            for other in ends:
                other.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                HandedServer(application, theirs, address, **options).run()
            finally:
                os._exit(0)
        theirs.close()
        ends.append(mine)
        children.append(pid)
    try:
        return _until_stopped(lambda: _hand_out(listener, ends))
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            os.waitpid(pid, 0)


def _hand_out(listener: socket.socket, ends: list[socket.socket]) -> None:
    """Accept connections and pass each to the next live worker; a worker that has died is
    dropped from the turn (and said so), and with none left the server stops."""
    turn = 0
    while ends:
        conn, _ = listener.accept()
        with conn:
            while ends:
                end = ends[turn % len(ends)]
                try:
                    socket.send_fds(end, [b"c"], [conn.fileno()])
                    turn += 1
                    break
                except OSError as exc:
                    print(
                        f"arrears serve: a worker has stopped ({exc}); serving on with "
                        f"{len(ends) - 1}",
                        file=sys.stderr,
                        flush=True,
                    )
                    ends.remove(end)
                    end.close()
    raise SystemExit("arrears serve: no worker is left")


def _until_stopped(run: Any) -> int:
    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt):
        run()
    return 0
