"""SMB logons against one server, one after another, with impacket: each logon is a new TCP
connection, NEGOTIATE, SESSION_SETUP (NTLMv2 with a password, or Kerberos with the service
ticket already in the KRB5CCNAME cache: one AP-REQ and the server's AP-REP), then LOGOFF.
Prints one JSON line: the median and 90th percentile of a logon's time (ms) and logons per
second over the whole run.

    python bench_logon.py ntlm|kerberos ADDRESS NAME PORT USER PASSWORD REALM COUNT
"""
import json
import statistics
import sys
import time

from impacket.smbconnection import SMBConnection


def logon(mode, address, name, port, user, password, realm):
    connection = SMBConnection(name, address, sess_port=port, timeout=10)
    if mode == "kerberos":
        connection.kerberosLogin(user, "", realm, useCache=True)
    else:
        connection.login(user, password)
    connection.logoff()
    connection.close()


def main():
    mode, address, name, port, user, password, realm, count = sys.argv[1:9]
    port, count = int(port), int(count)
    for _ in range(5):
        logon(mode, address, name, port, user, password, realm)
    times = []
    started = time.perf_counter()
    for _ in range(count):
        begin = time.perf_counter()
        logon(mode, address, name, port, user, password, realm)
        times.append((time.perf_counter() - begin) * 1000)
    total = time.perf_counter() - started
    times.sort()
    print(json.dumps({
        "median_ms": statistics.median(times),
        "p90_ms": times[int(len(times) * 0.9) - 1],
        "per_second": count / total,
    }))


if __name__ == "__main__":
    main()
