"""impacket sends paths nearly as given (it only applies ntpath.normpath, which keeps a leading
'..'), so it can try most ways out of a share: each attempt must fail with an NT status, and
reading through a link that leads outside must not return the target.
Arguments: host port user password share."""

import io
import sys

from impacket.smbconnection import SMBConnection, SessionError

host, port, user, password, share = sys.argv[1:6]
connection = SMBConnection(host, host, sess_port=int(port))
connection.login(user, password)

attempts = [
    "..\\escape.txt",
    "a\\..\\..\\escape.txt",
    "..",
    ".\\..\\escape.txt",
    "C:\\escape.txt",
    "link\\secret.txt",
    "link\\new.txt",
    "secret-link.txt",
    "CON",
    "aux.txt",
    "name|pipe.txt",
    "star*.txt",
    "question?.txt",
    "quote\".txt",
    "less<.txt",
    "ctrl\x01.txt",
]
for path in attempts:
    for mode in ("write", "read"):
        try:
            if mode == "write":
                connection.putFile(share, path, io.BytesIO(b"escaped").read)
            else:
                sink = io.BytesIO()
                connection.getFile(share, path, sink.write)
                assert sink.getvalue() != b"not for clients", f"read the secret through {path!r}"
            raise AssertionError(f"{mode} of {path!r} succeeded")
        except SessionError as error:
            print(f"{mode} {path!r}: {error.getErrorString()[0]}")

connection.logoff()
print("every escape was refused")
