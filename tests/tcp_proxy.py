"""A TCP proxy that can cut its traffic, to make a real server unreachable for a while."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to a target; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int, *, reply_delay_s: float = 0.0) -> None:
        self.target = (target_host, target_port)
        # Holds back the server's first reply on each connection, like a slow or distant server.
        self.reply_delay_s = reply_delay_s
        self.connections = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._open = threading.Event()
        self._open.set()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for sock in self._sockets:
                _shut(sock)
            self._sockets.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        _shut(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                _shut(client)  # unreachable: the connection is refused at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _shut(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
                self.connections += 1
            for source, sink, delay in (
                (client, upstream, 0.0),
                (upstream, client, self.reply_delay_s),
            ):
                threading.Thread(target=self._pipe, args=(source, sink, delay), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, delay_s: float) -> None:
        try:
            first = True
            while data := source.recv(65536):
                if first and delay_s:
                    time.sleep(delay_s)
                first = False
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _shut(source)
            _shut(sink)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
