"""Security headers on every response (pure ASGI middleware, outermost, so refusals of the HTTP
layer get them too).

The pages load scripts and styles from /static only (no inline script, style or event handler), so
the Content-Security-Policy allows nothing else; no other site may frame a page (clickjacking),
browsers must not guess content types (a student's file is never rendered as HTML), and no page
address leaks in a Referer header.
"""
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
                           "object-src 'none'")
SECURITY_HEADERS = (
    (b'content-security-policy', CONTENT_SECURITY_POLICY.encode()),
    (b'x-content-type-options', b'nosniff'),
    (b'referrer-policy', b'no-referrer'),
    (b'x-frame-options', b'DENY'),
)


class SecurityHeadersMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message['type'] == 'http.response.start':
                present = {name.lower() for name, _ in message.get('headers', [])}
                extra = [header for header in SECURITY_HEADERS if header[0] not in present]
                message = {**message, 'headers': list(message.get('headers', [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
