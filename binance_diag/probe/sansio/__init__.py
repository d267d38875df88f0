"""The protocols a probe speaks, as byte-in/byte-out state machines that touch no socket:
the WebSocket exchange, the proxy tunnels (HTTP CONNECT, SOCKS5) and the market payloads."""
