"""A client that keeps its open file and its lock while the server process is killed (SIGKILL)
and started again: a persistent handle (durable handle v2 with the persistent flag) on a
continuously available share, with smbprotocol against EdgeShare.

1. Connect, open the file persistently, lock its first byte, write the first half of the data.
   Print "READY" and wait for a line on standard input: the test kills the server meanwhile and
   starts it again.
2. Reconnect (retrying while the server starts), reclaim the open with DH2C and the same
   CreateGuid and FileId.
3. Check: another client cannot take the lock (it survived the restart), the bytes written before
   the kill are there; write the second half through the reclaimed open, then the lock is
   released and the other client reads exactly what was meant (SHA-256).

Arguments: host port user password share
"""

import hashlib
import os
import sys
import time
import uuid

from smbprotocol.connection import Capabilities, Connection
from smbprotocol.create_contexts import (
    CreateContextName,
    DurableHandleFlags,
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

host, port, user, password, share = sys.argv[1:6]
port = int(port)
NAME = "ledger.bin"
DATA = os.urandom(3 * 1024 * 1024 + 77)
HALF = len(DATA) // 2
CHUNK = 256 * 1024
READ_WRITE = FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE
SHARE_ALL = ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE


def connect(guid, deadline=None):
    while True:
        try:
            connection = Connection(guid, host, port)
            connection.client_capabilities |= Capabilities.SMB2_GLOBAL_CAP_PERSISTENT_HANDLES
            connection.connect(timeout=5)
            break
        except (OSError, ValueError, SMBException) as error:
            if deadline is None or time.monotonic() > deadline:
                raise
            print(f"server not back yet: {type(error).__name__}")
            time.sleep(0.2)
    session = Session(connection, user, password, require_encryption=False)
    session.connect()
    tree = TreeConnect(session, rf"\\{host}\{share}")
    tree.connect()
    assert tree.is_ca_share, "the share does not say it is continuously available"
    return connection, tree


def context(name, data):
    ctx = SMB2CreateContextRequest()
    ctx["buffer_name"] = name
    ctx["buffer_data"] = data
    return ctx


def lock_element(flags):
    element = SMB2LockElement()
    element["offset"] = 0
    element["length"] = 1
    element["flags"] = flags
    return element


EXCLUSIVE = LockFlags.SMB2_LOCKFLAG_EXCLUSIVE_LOCK | LockFlags.SMB2_LOCKFLAG_FAIL_IMMEDIATELY


def refused_lock(handle):
    try:
        handle.lock([lock_element(EXCLUSIVE)])
    except SMBException as error:
        assert "LOCK_NOT_GRANTED" in str(error) or "0xc0000055" in str(error).lower(), error
        return True
    return False


def write(handle, start, end):
    for offset in range(start, end, CHUNK):
        handle.write(DATA[offset : min(offset + CHUNK, end)], offset)


guid = uuid.uuid4()
create_guid = uuid.uuid4()

# 1. A persistent open with a lock and half the data.
connection, tree = connect(guid)
request = SMB2CreateDurableHandleRequestV2()
request["timeout"] = 60000
request["flags"] = DurableHandleFlags.SMB2_DHANDLE_FLAG_PERSISTENT
request["create_guid"] = create_guid
handle = Open(tree, NAME)
responses = handle.create(
    ImpersonationLevel.Impersonation,
    READ_WRITE,
    0,
    SHARE_ALL,
    CreateDisposition.FILE_OVERWRITE_IF,
    0,
    create_contexts=[context(CreateContextName.SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2, request)],
    oplock_level=RequestedOplockLevel.SMB2_OPLOCK_LEVEL_NONE,
)
granted = [r for r in responses or [] if getattr(r, "fields", {}).get("timeout") is not None]
assert granted, f"no durable handle v2 response context: {responses}"
assert granted[0]["flags"].has_flag(DurableHandleFlags.SMB2_DHANDLE_FLAG_PERSISTENT), "not persistent"
file_id = handle.file_id
handle.lock([lock_element(EXCLUSIVE)])
write(handle, 0, HALF)
print("READY", flush=True)
sys.stdin.readline()
try:
    connection.disconnect(close=False)
except Exception:
    pass

# 2. Back, once the server is: reclaim the open.
deadline = time.monotonic() + 30
connection2, tree2 = connect(guid, deadline)
reconnect = SMB2CreateDurableHandleReconnectV2()
reconnect["file_id"] = file_id
reconnect["create_guid"] = create_guid
reconnect["flags"] = DurableHandleFlags.SMB2_DHANDLE_FLAG_PERSISTENT
handle2 = Open(tree2, NAME)
handle2.create(
    ImpersonationLevel.Impersonation,
    READ_WRITE,
    0,
    SHARE_ALL,
    CreateDisposition.FILE_OPEN,
    0,
    create_contexts=[context(CreateContextName.SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2, reconnect)],
)
assert handle2.file_id == file_id, (handle2.file_id, file_id)

# 3. The lock survived the restart: another client cannot take it, nor can the open itself.
connection3, tree3 = connect(uuid.uuid4())
other = Open(tree3, NAME)
other.create(ImpersonationLevel.Impersonation, READ_WRITE, 0, SHARE_ALL, CreateDisposition.FILE_OPEN, 0)
assert refused_lock(other), "another client took the lock the restart should have kept"
assert refused_lock(handle2), "the reclaimed open lost its lock"
# (Byte 0 is locked: reading it is a lock conflict.)
before = other.read(1, HALF - 1)
assert before == DATA[1:HALF], "the bytes written before the kill differ"
write(handle2, HALF, len(DATA))
handle2.lock([lock_element(LockFlags.SMB2_LOCKFLAG_UNLOCK)])
assert not refused_lock(other), "the lock should be free once its owner released it"
read = b""
while len(read) < len(DATA):
    read += other.read(len(read), min(1024 * 1024, len(DATA) - len(read)))
assert hashlib.sha256(read).hexdigest() == hashlib.sha256(DATA).hexdigest(), "the file's bytes differ"
handle2.close()
other.close()
connection3.disconnect()
connection2.disconnect()
print(f"persistent handle kept across the restart: lock held, {len(DATA)} bytes exact")
