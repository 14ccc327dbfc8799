"""Durable and persistent opens against one server, with smbprotocol over TCP:

    python bench_durable.py reclaim ADDRESS PORT USER PASSWORD SHARE OPENS ROUNDS [persistent]
        Each round: a client opens OPENS files durably (DH2Q: a batch oplock, or the persistent
        flag), its connection is lost (the socket closes, no LOGOFF), and it connects again and
        reclaims every open (DH2C). The time measured is from the new connection's first byte to
        the last open reclaimed. Prints the median and the fastest round (ms).
    python bench_durable.py create-close ADDRESS PORT USER PASSWORD SHARE COUNT [persistent]
        COUNT times CREATE (DH2Q) and CLOSE of one file, one after another. Prints operations
        (CREATE+CLOSE pairs) per second.

One JSON line each.
"""
import json
import statistics
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
from smbprotocol.open import (
    CreateDisposition,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    Open,
    RequestedOplockLevel,
    ShareAccess,
)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

mode, address, port, user, password, share = sys.argv[1:7]
port = int(port)
persistent = "persistent" in sys.argv[8:]
READ_WRITE = FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE
SHARE_ALL = ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE


def connect(guid):
    connection = Connection(guid, address, port)
    connection.client_capabilities |= Capabilities.SMB2_GLOBAL_CAP_PERSISTENT_HANDLES
    connection.connect(timeout=10)
    session = Session(connection, user, password, require_encryption=False)
    session.connect()
    tree = TreeConnect(session, rf"\\{address}\{share}")
    tree.connect()
    return connection, tree


def context(name, data):
    ctx = SMB2CreateContextRequest()
    ctx["buffer_name"] = name
    ctx["buffer_data"] = data
    return ctx


def create(tree, name, disposition, context_name, request):
    if persistent:
        request["flags"] = DurableHandleFlags.SMB2_DHANDLE_FLAG_PERSISTENT
    handle = Open(tree, name)
    handle.create(
        ImpersonationLevel.Impersonation,
        READ_WRITE,
        0,
        SHARE_ALL,
        disposition,
        0,
        create_contexts=[context(context_name, request)],
        oplock_level=RequestedOplockLevel.SMB2_OPLOCK_LEVEL_BATCH,
    )
    return handle


def open_durably(tree, name, create_guid):
    request = SMB2CreateDurableHandleRequestV2()
    request["timeout"] = 60000
    request["create_guid"] = create_guid
    disposition = CreateDisposition.FILE_OVERWRITE_IF
    return create(tree, name, disposition, CreateContextName.SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2, request)


def reclaim(tree, name, file_id, create_guid):
    request = SMB2CreateDurableHandleReconnectV2()
    request["file_id"] = file_id
    request["create_guid"] = create_guid
    reconnect = CreateContextName.SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2
    handle = create(tree, name, CreateDisposition.FILE_OPEN, reconnect, request)
    # The same open (its persistent id; Samba gives it a new volatile id).
    assert handle.file_id[:8] == file_id[:8], (name, handle.file_id, file_id)
    return handle


def reclaim_round(opens):
    guid = uuid.uuid4()
    connection, tree = connect(guid)
    held = []
    for i in range(opens):
        create_guid = uuid.uuid4()
        handle = open_durably(tree, f"durable-{i}.bin", create_guid)
        held.append((f"durable-{i}.bin", handle.file_id, create_guid))
    connection.disconnect(close=False)  # lost: the socket closes, nothing is closed first
    started = time.perf_counter()
    connection, tree = connect(guid)
    handles = [reclaim(tree, name, file_id, create_guid) for name, file_id, create_guid in held]
    elapsed = (time.perf_counter() - started) * 1000
    for handle in handles:
        handle.close()
    connection.disconnect()
    return elapsed


def main():
    if mode == "reclaim":
        opens, rounds = int(sys.argv[7]), int(sys.argv[8])
        reclaim_round(opens)  # warm-up
        times = sorted(reclaim_round(opens) for _ in range(rounds))
        print(json.dumps({"median_ms": statistics.median(times), "best_ms": times[0]}))
    else:
        count = int(sys.argv[7])
        connection, tree = connect(uuid.uuid4())
        for _ in range(20):
            open_durably(tree, "churn.bin", uuid.uuid4()).close()
        started = time.perf_counter()
        for _ in range(count):
            open_durably(tree, "churn.bin", uuid.uuid4()).close()
        total = time.perf_counter() - started
        connection.disconnect()
        print(json.dumps({"per_second": count / total}))


if __name__ == "__main__":
    main()
