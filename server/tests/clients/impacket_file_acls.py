"""impacket against an EdgeShare server: shares keep no file ACLs. The volume does not state
FILE_PERSISTENT_ACLS, a file shows full control for Everyone, a DACL that denies Everyone is
refused with STATUS_NOT_SUPPORTED (not kept and ignored), and the file stays readable.
Arguments: host port user password share."""

import io
import struct
import sys

from impacket import smb3structs as smb2
from impacket.nt_errors import STATUS_NOT_SUPPORTED
from impacket.smb3 import SessionError
from impacket.smbconnection import SMBConnection

host, port, user, password, share = sys.argv[1:6]
connection = SMBConnection(host, host, sess_port=int(port))
connection.login(user, password)
connection.putFile(share, "notice.txt", io.BytesIO(b"read me").read)

smb = connection.getSMBServer()
tree = connection.connectTree(share)
READ_CONTROL, WRITE_DAC, FILE_READ_DATA = 0x00020000, 0x00040000, 0x1
file_id = connection.openFile(tree, "notice.txt", desiredAccess=READ_CONTROL | WRITE_DAC | FILE_READ_DATA)

# MS-FSCC 2.5.1 FileFsAttributeInformation (class 5): FILE_PERSISTENT_ACLS is 0x8.
attributes = smb.queryInfo(tree, file_id, infoType=smb2.SMB2_0_INFO_FILESYSTEM, fileInfoClass=5)
(flags,) = struct.unpack_from("<I", attributes, 0)
assert flags & 0x8 == 0, f"the volume states persistent ACLs: {flags:#x}"

DACL_SECURITY_INFORMATION = 0x4
EVERYONE = bytes([1, 1, 0, 0, 0, 0, 0, 1]) + struct.pack("<I", 0)


def dacl_aces(descriptor):
    """(type, mask, sid bytes) of each ACE of a self-relative descriptor's DACL."""
    (dacl_offset,) = struct.unpack_from("<I", descriptor, 16)
    assert dacl_offset, "the descriptor has no DACL"
    (count,) = struct.unpack_from("<H", descriptor, dacl_offset + 4)
    aces, at = [], dacl_offset + 8
    for _ in range(count):
        ace_type, _, size, mask = struct.unpack_from("<BBHI", descriptor, at)
        aces.append((ace_type, mask, descriptor[at + 8 : at + size]))
        at += size
    return aces


shown = smb.queryInfo(tree, file_id, infoType=smb2.SMB2_0_INFO_SECURITY, fileInfoClass=0,
                      additionalInformation=DACL_SECURITY_INFORMATION)
assert (0, 0x001F01FF, EVERYONE) in dacl_aces(shown), dacl_aces(shown)

# A self-relative descriptor (MS-DTYP 2.4.6) whose DACL denies Everyone everything.
ace = struct.pack("<BBHI", 1, 0, 8 + len(EVERYONE), 0x001F01FF) + EVERYONE
acl = struct.pack("<BBHHH", 2, 0, 8 + len(ace), 1, 0) + ace
descriptor = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20) + acl
try:
    smb.setInfo(tree, file_id, inputBlob=descriptor, infoType=smb2.SMB2_0_INFO_SECURITY, fileInfoClass=0,
                additionalInformation=DACL_SECURITY_INFORMATION)
    raise AssertionError("a DACL was accepted, and nothing would enforce it")
except SessionError as error:
    assert error.get_error_code() == STATUS_NOT_SUPPORTED, error

shown = smb.queryInfo(tree, file_id, infoType=smb2.SMB2_0_INFO_SECURITY, fileInfoClass=0,
                      additionalInformation=DACL_SECURITY_INFORMATION)
assert all(ace_type == 0 for ace_type, _, _ in dacl_aces(shown)), dacl_aces(shown)
connection.closeFile(tree, file_id)

received = io.BytesIO()
connection.getFile(share, "notice.txt", received.write)
assert received.getvalue() == b"read me", received.getvalue()
connection.deleteFile(share, "notice.txt")
print("impacket file ACL refusal ok")
