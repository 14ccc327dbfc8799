"""impacket signing in with Kerberos from the ticket cache (KRB5CCNAME, a plain path): its
AP-REQ is built by hand, without the GSS checksum of RFC 4121, as some SMB clients do. Reads one
file and checks it. Arguments: address name port realm user share file expected-content."""

import io
import sys

from impacket.smbconnection import SMBConnection

address, name, port, realm, user, share, path, expected = sys.argv[1:9]
connection = SMBConnection(name, address, sess_port=int(port))
connection.kerberosLogin(user, "", realm, useCache=True)
received = io.BytesIO()
connection.getFile(share, path, received.write)
assert received.getvalue() == expected.encode(), received.getvalue()
connection.logoff()
