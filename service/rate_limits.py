"""HTTP-layer protection (pure ASGI middleware): a request body cap and a per-client rate limit.

Bodies larger than ``max_body`` are refused with 413 before they are read (by Content-Length) or
as soon as the streamed body passes the cap; each client address gets a token bucket of
``rate`` requests per second with ``burst`` in reserve, beyond which requests get 429.
"""
import json
import threading
import time


class _Bucket:
    __slots__ = ('tokens', 'stamp')

    def __init__(self, tokens, stamp):
        self.tokens, self.stamp = tokens, stamp


class RateLimiter:
    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.buckets, self.lock = {}, threading.Lock()

    def allow(self, key: str) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        with self.lock:
            if len(self.buckets) > 10000:  # forget idle clients
                self.buckets = {k: b for k, b in self.buckets.items() if now - b.stamp < 60}
            bucket = self.buckets.setdefault(key, _Bucket(float(self.burst), now))
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens < 1:
                return False
            bucket.tokens -= 1
            return True


class _TooLarge(Exception):
    pass


async def _refuse(scope, send, status, message):
    wants_html = any(k == b'accept' and b'text/html' in v for k, v in scope.get('headers', []))
    if wants_html:
        body = (f"<!doctype html><title>{status}</title><h1>Upload refused</h1><p>{message}</p>"
                f"<p><a href='/'>Back</a></p>").encode()
        content_type = b'text/html; charset=utf-8'
    else:
        body, content_type = json.dumps({'detail': message}).encode(), b'application/json'
    headers = [(b'content-type', content_type), (b'content-length', str(len(body)).encode())]
    if status == 429:
        headers.append((b'retry-after', b'1'))
    await send({'type': 'http.response.start', 'status': status, 'headers': headers})
    await send({'type': 'http.response.body', 'body': body})


class LimitsMiddleware:
    def __init__(self, app, max_body: int, rate: float, burst: int):
        self.app, self.max_body = app, max_body
        self.limiter = RateLimiter(rate, burst)

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        client = (scope.get('client') or ('unknown', 0))[0]
        if not scope['path'].startswith('/static/') and not self.limiter.allow(client):
            return await _refuse(scope, send, 429, "too many requests from your address; wait a moment")
        too_large = (f"the request is larger than {self.max_body:,} bytes: solution.py may be at most "
                     f"1 MiB (1,048,576 bytes)")
        length = dict(scope.get('headers', [])).get(b'content-length')
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await _refuse(scope, send, 413, too_large)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message['type'] == 'http.request':
                received += len(message.get('body', b''))
                if received > self.max_body:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message['type'] == 'http.response.start':
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _refuse(scope, send, 413, too_large)
