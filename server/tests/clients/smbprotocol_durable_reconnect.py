"""A client that loses its connection in the middle of a write and gets its open file back on a new
connection (durable handle v2, DH2Q then DH2C), with smbprotocol against EdgeShare.

The first connection goes through a relay in this script that cuts both directions after a few
MiB of the client's writes: the client sees its write fail. It connects again (to RECONNECT_PORT,
which may be another transport's port), reclaims the open with DH2C and the same CreateGuid,
writes the rest, and checks: the byte-range lock it took before the cut still holds, and the
file's bytes, read by another client, are exactly what it meant to write.

Arguments: host port reconnect_port user password share
"""

import hashlib
import os
import socket
import sys
import threading
import time
import uuid

from smbprotocol.connection import Connection
from smbprotocol.create_contexts import (
    CreateContextName,
    SMB2CreateContextRequest,
    SMB2CreateDurableHandleReconnectV2,
    SMB2CreateDurableHandleRequestV2,
)
from smbprotocol.exceptions import SMBException
from smbprotocol.open import (
    CreateDisposition,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    LockFlags,
    Open,
    RequestedOplockLevel,
    ShareAccess,
    SMB2LockElement,
)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

host, port, reconnect_port, user, password, share = sys.argv[1:7]
port, reconnect_port = int(port), int(reconnect_port)
NAME = "moving.bin"
CHUNK = 512 * 1024
DATA = os.urandom(6 * 1024 * 1024 + 123)
CUT_AFTER = 2 * 1024 * 1024 + 4000  # client-to-server bytes the relay forwards before it cuts


class Relay:
    """Forwards one TCP connection to the server and cuts it after CUT_AFTER bytes upstream."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        client, _ = self.listener.accept()
        server = socket.create_connection((host, port))
        sockets = (client, server)

        def pump(source, target, limit):
            sent = 0
            try:
                while not self.cut.is_set():
                    data = source.recv(65536)
                    if not data:
                        break
                    if limit is not None and sent + len(data) > limit:
                        target.sendall(data[: limit - sent])
                        break
                    target.sendall(data)
                    sent += len(data)
            except OSError:
                pass
            self.cut.set()
            for s in sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

        threading.Thread(target=pump, args=(server, client, None), daemon=True).start()
        pump(client, server, CUT_AFTER)


def connect(to_port, guid):
    connection = Connection(guid, host, to_port)
    connection.connect(timeout=10)
    session = Session(connection, user, password, require_encryption=False)
    session.connect()
    tree = TreeConnect(session, rf"\\{host}\{share}")
    tree.connect()
    return connection, tree


def context(name, data):
    ctx = SMB2CreateContextRequest()
    ctx["buffer_name"] = name
    ctx["buffer_data"] = data
    return ctx


READ_WRITE = FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE
guid = uuid.uuid4()
create_guid = uuid.uuid4()

# 1. Open durably (batch oplock, DH2Q), lock the first byte, write until the relay cuts.
relay = Relay()
connection, tree = connect(relay.port, guid)
request = SMB2CreateDurableHandleRequestV2()
request["timeout"] = 60000
request["create_guid"] = create_guid
handle = Open(tree, NAME)
responses = handle.create(
    ImpersonationLevel.Impersonation,
    READ_WRITE,
    0,
    ShareAccess.FILE_SHARE_READ,
    CreateDisposition.FILE_OVERWRITE_IF,
    0,
    create_contexts=[context(CreateContextName.SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2, request)],
    oplock_level=RequestedOplockLevel.SMB2_OPLOCK_LEVEL_BATCH,
)
assert handle.oplock_level == RequestedOplockLevel.SMB2_OPLOCK_LEVEL_BATCH, handle.oplock_level
granted = [r for r in responses or [] if getattr(r, "fields", {}).get("timeout") is not None]
assert granted, f"no durable handle v2 response context: {responses}"
file_id = handle.file_id
lock = SMB2LockElement()
lock["offset"] = 0
lock["length"] = 1
lock["flags"] = LockFlags.SMB2_LOCKFLAG_EXCLUSIVE_LOCK | LockFlags.SMB2_LOCKFLAG_FAIL_IMMEDIATELY
handle.lock([lock])

confirmed = 0
try:
    for offset in range(0, len(DATA), CHUNK):
        handle.write(DATA[offset : offset + CHUNK], offset)
        confirmed = offset + len(DATA[offset : offset + CHUNK])
    raise AssertionError("the relay never cut the connection")
except (SMBException, OSError, ValueError) as error:
    print(f"connection lost after {confirmed} confirmed bytes: {type(error).__name__}")
assert 0 < confirmed < len(DATA), confirmed
try:
    connection.disconnect(close=False)
except Exception:
    pass

# 2. A new connection reclaims the open (DH2C, same CreateGuid and FileId) and writes the rest.
connection2, tree2 = connect(reconnect_port, guid)
reconnect = SMB2CreateDurableHandleReconnectV2()
reconnect["file_id"] = file_id
reconnect["create_guid"] = create_guid
handle2 = Open(tree2, NAME)
deadline = time.monotonic() + 10
while True:
    try:
        handle2.create(
            ImpersonationLevel.Impersonation,
            READ_WRITE,
            0,
            ShareAccess.FILE_SHARE_READ,
            CreateDisposition.FILE_OPEN,
            0,
            create_contexts=[context(CreateContextName.SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2, reconnect)],
            oplock_level=RequestedOplockLevel.SMB2_OPLOCK_LEVEL_BATCH,
        )
        break
    except SMBException as error:
        # The server may not have seen the old connection end yet.
        if time.monotonic() > deadline:
            raise
        print(f"reconnect refused for now: {error}")
        time.sleep(0.2)
assert handle2.file_id == file_id, (handle2.file_id, file_id)
assert handle2.oplock_level == RequestedOplockLevel.SMB2_OPLOCK_LEVEL_BATCH, handle2.oplock_level
for offset in range(confirmed, len(DATA), CHUNK):
    handle2.write(DATA[offset : offset + CHUNK], offset)

# 3. The lock taken before the cut still holds: taking it again is refused, and unlocking it
#    works (both fail on an open that lost its lock). Then the bytes, read by another client.
try:
    handle2.lock([lock])
    raise AssertionError("the lock taken before the cut was lost with the connection")
except SMBException as error:
    assert "LOCK_NOT_GRANTED" in str(error) or "0xc0000055" in str(error).lower(), error
unlock = SMB2LockElement()
unlock["offset"] = 0
unlock["length"] = 1
unlock["flags"] = LockFlags.SMB2_LOCKFLAG_UNLOCK
handle2.lock([unlock])
handle2.close()
connection3, tree3 = connect(reconnect_port, uuid.uuid4())
other = Open(tree3, NAME)
other.create(
    ImpersonationLevel.Impersonation,
    FilePipePrinterAccessMask.GENERIC_READ,
    0,
    ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE,
    CreateDisposition.FILE_OPEN,
    0,
)
read = b""
while len(read) < len(DATA):
    read += other.read(len(read), min(1024 * 1024, len(DATA) - len(read)))
assert hashlib.sha256(read).hexdigest() == hashlib.sha256(DATA).hexdigest(), "the file's bytes differ"
other.close()
doomed = Open(tree3, NAME)
doomed.create(
    ImpersonationLevel.Impersonation,
    FilePipePrinterAccessMask.DELETE,
    0,
    ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE,
    CreateDisposition.FILE_OPEN,
    0x00001000,  # FILE_DELETE_ON_CLOSE
)
doomed.close()
connection3.disconnect()
print(f"durable reconnect ok: {len(DATA)} bytes exact, {len(DATA) - confirmed} written after the cut")
