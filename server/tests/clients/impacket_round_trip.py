"""impacket against an EdgeShare server: list shares, put, get, rename, directories, delete;
every result checked. Arguments: host port user password share."""

import io
import os
import sys

from impacket.smbconnection import SMBConnection, SessionError

host, port, user, password, share = sys.argv[1:6]
connection = SMBConnection(host, host, sess_port=int(port))
connection.login(user, password)

names = [s["shi1_netname"][:-1] for s in connection.listShares()]
assert share in names and "IPC$" in names, names

data = os.urandom(1024 * 1024 + 5)
connection.putFile(share, "upload.bin", io.BytesIO(data).read)
received = io.BytesIO()
connection.getFile(share, "upload.bin", received.write)
assert received.getvalue() == data, "downloaded content differs"

connection.createDirectory(share, "docs")
connection.rename(share, "upload.bin", "docs\\moved.bin")
listed = sorted(f.get_longname() for f in connection.listPath(share, "docs\\*"))
assert listed == [".", "..", "moved.bin"], listed

try:
    connection.getFile(share, "missing.bin", io.BytesIO().write)
    raise AssertionError("a missing file was served")
except SessionError as error:
    assert "STATUS_OBJECT_NAME_NOT_FOUND" in str(error), error

connection.deleteFile(share, "docs\\moved.bin")
connection.deleteDirectory(share, "docs")
left = [f.get_longname() for f in connection.listPath(share, "*") if f.get_longname() not in (".", "..")]
assert left == [], left
connection.logoff()
print("impacket round trip ok")
