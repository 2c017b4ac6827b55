#!/usr/bin/env python3
"""An HTTPS server on 127.0.0.1 with a self-signed certificate (which feedsync must refuse).

    tls_server.py CERT KEY

Prints its port, then serves the current folder.
"""
import http.server, ssl, sys

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
