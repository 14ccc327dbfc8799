"""smbprotocol (Python) against an EdgeShare server: write, read back, list, rename, make and
remove a directory, delete; every result checked. Arguments: host port user password share."""

import os
import sys

import smbclient

host, port, user, password, share = sys.argv[1:6]
port = int(port)
smbclient.register_session(host, username=user, password=password, port=port, encrypt=True)
root = rf"\\{host}\{share}"
data = os.urandom(2 * 1024 * 1024 + 17)

with smbclient.open_file(rf"{root}\report.bin", mode="wb", port=port) as f:
    f.write(data)
with smbclient.open_file(rf"{root}\report.bin", mode="rb", port=port) as f:
    assert f.read() == data, "read back differs"

smbclient.mkdir(rf"{root}\folder", port=port)
smbclient.rename(rf"{root}\report.bin", rf"{root}\folder\final.bin", port=port)
names = sorted(smbclient.listdir(rf"{root}\folder", port=port))
assert names == ["final.bin"], names
assert smbclient.stat(rf"{root}\folder\final.bin", port=port).st_size == len(data)

smbclient.remove(rf"{root}\folder\final.bin", port=port)
smbclient.rmdir(rf"{root}\folder", port=port)
assert smbclient.listdir(root, port=port) == [], smbclient.listdir(root, port=port)
print("smbprotocol round trip ok")
