# pyftpdlib as bench:compare starts it (bench/peers/table.ts):
#   python3 server.py ROOT PORT PASV_MIN PASV_MAX PERM [CERT KEY]
# PERM: elr, or elrw when writable. CERT KEY (the TLS rows): TLS_FTPHandler
# (python3-openssl), AUTH TLS offered, not required, TLS 1.0/1.1 off; it does
# not check that a data connection resumes the control connection's session.
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
root, port, pmin, pmax, perm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
tls = sys.argv[6:8]
logging.basicConfig(level=logging.ERROR)
auth = DummyAuthorizer()
auth.add_anonymous(root, perm=perm)
if tls:
    from OpenSSL import SSL
    from pyftpdlib.handlers import TLS_FTPHandler
    class Handler(TLS_FTPHandler):
        pass
    Handler.certfile, Handler.keyfile = tls
    Handler.ssl_options |= SSL.OP_NO_TLSv1 | SSL.OP_NO_TLSv1_1
else:
    class Handler(FTPHandler):
        pass
Handler.authorizer = auth
Handler.banner = "pyftpdlib bench"
Handler.passive_ports = range(pmin, pmax + 1)
Handler.permit_foreign_addresses = False
Handler.use_sendfile = True
Handler.timeout = 600
server = FTPServer(("127.0.0.1", port), Handler, backlog=4096)
server.max_cons = 0
server.max_cons_per_ip = 0
server.serve_forever(handle_exit=True)
