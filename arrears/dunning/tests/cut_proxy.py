"""A TCP proxy the fault tests put between a process and a service (the broker, PostgreSQL), to
take the service away for a while without touching the machine's shared one.

`CutProxy(port).start()` listens on a free port of 127.0.0.1 and passes every connection made to
it on to 127.0.0.1:`port`, byte for byte, both ways, a thread per direction. `cut()` is the
service gone: the proxy stops listening (a new connection is refused, as by a stopped server)
and closes both ends of every connection it carries (the client reads the end of the stream,
as from a server that died). `restore()` listens again on the same port: the service is back,
and a client that reconnects gets a new connection to it. `close()` cuts for good.
`cut_on(trigger, seconds)` cuts when a client sends bytes holding `trigger` (those bytes never
reach the service: it died as they were sent) and restores `seconds` later: the service lost
at one chosen moment of a conversation (a task's name: as it is published).

Written for the tests (threads, no asyncio: the test's own thread drives it between blocking
calls); it carries a few connections, not a load.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class CutProxy:
    """A proxy from 127.0.0.1:`self.port` to 127.0.0.1:`target`, that the test cuts and
    restores (see the module docstring)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.connections = 0  # connections accepted since start, for the tests' own checks
        self._trigger = b""
        self._trigger_seconds = 0.0
        self.tripped = threading.Event()

    def start(self) -> CutProxy:
        self._listen()
        return self

    def cut(self) -> None:
        """Refuse new connections and end every open one (the service went down)."""
        with self._lock:
            listener, self._listener = self._listener, None
            carried, self._open = self._open, set()
        if listener is not None:
            _end(listener)  # shut down first: a bare close leaves the accept() waiting, bound
        for sock in carried:
            _end(sock)

    def restore(self) -> None:
        """Listen again on the same port (the service is back); nothing if it listens."""
        if self._listener is None:
            self._listen()

    def cut_on(self, trigger: bytes, seconds: float) -> None:
        """Cut when a client next sends `trigger` (not passed on), restored `seconds` later."""
        self.tripped.clear()
        self._trigger, self._trigger_seconds = trigger, seconds

    def close(self) -> None:
        self.cut()

    @contextmanager
    def down(self) -> Iterator[None]:
        """Cut within the block, restored after it."""
        self.cut()
        try:
            yield
        finally:
            self.restore()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # The same port again after a cut, with the connections the cut closed in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while this one was being made
                    _end(client)
                    _end(upstream)
                    return
                self._open.update((client, upstream))
                self.connections += 1
            for a, b, watch in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, watch), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, watch: bool) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if watch and self._trigger and self._trigger in data:
                    self._trigger = b""
                    self.cut()
                    threading.Timer(self._trigger_seconds, self.restore).start()
                    self.tripped.set()
                    break
                sink.sendall(data)
        # One side ended (or the proxy was cut): end the other, as a server's death would.
        with self._lock:
            self._open.discard(source)
            self._open.discard(sink)
        _end(source)
        _end(sink)


def _end(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
